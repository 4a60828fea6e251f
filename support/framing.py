"""Letting the sites on SUPPORT["FRAME_ANCESTORS"] show the help form in an iframe.

Every other page keeps Django's X-Frame-Options (DENY in the project's settings).
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.clickjacking import xframe_options_exempt

from .conf import get_setting


def frameable(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let the allowed sites frame `view`, and give it a CSRF cookie that works there.

    The page sends `Content-Security-Policy: frame-ancestors 'self' <allowed origins>`
    instead of X-Frame-Options (which cannot name sites). A form inside a cross-site iframe
    is a third-party context: a SameSite=Lax cookie is not sent with its POST, so Django's
    CSRF check would fail. Here the CSRF cookie is set `SameSite=None; Secure;
    Partitioned`: sent from the iframe, and, being partitioned by the top-level site
    (CHIPS), kept even where third-party cookies are blocked, and unreadable by any other
    site that frames the form. Browsers accept Secure cookies over https, and over http on
    localhost only.
    """

    @xframe_options_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        ancestors = " ".join(["'self'", *get_setting("FRAME_ANCESTORS")])
        response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
        _set_embedded_csrf_cookie(request, response)
        return response

    # For whatever answers instead of the view (support.throttling's 429 page).
    wrapper.support_frameable = True
    return wrapper


def _set_embedded_csrf_cookie(request: HttpRequest, response: HttpResponse) -> None:
    # The page used the CSRF token (get_token() flags this); set the cookie here, as
    # CsrfViewMiddleware would, but for a third-party iframe, and tell the middleware it
    # is done. With CSRF_USE_SESSIONS the token lives in the session: nothing to do.
    if settings.CSRF_USE_SESSIONS or not request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return
    name = settings.CSRF_COOKIE_NAME
    response.set_cookie(
        name,
        request.META["CSRF_COOKIE"],
        max_age=settings.CSRF_COOKIE_AGE,
        domain=settings.CSRF_COOKIE_DOMAIN,
        path=settings.CSRF_COOKIE_PATH,
        secure=True,
        httponly=settings.CSRF_COOKIE_HTTPONLY,
        samesite="None",
    )
    # Django 5.2 and Python before 3.14 know no `partitioned` cookie attribute; browsers
    # take attributes in any order, so it rides along with SameSite's value.
    response.cookies[name]["samesite"] = "None; Partitioned"
    patch_vary_headers(response, ("Cookie",))
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
