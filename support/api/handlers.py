"""Django's own error answers (handler400, 403, 404, 500) for requests to the API: JSON in
the contract's shape, as every error of the API's views is; any other request gets
Django's pages. These are the errors Django gives before or outside a view: a Host that
is not in ALLOWED_HOSTS (400), a middleware's refusal, a failure outside DRF (500).

A project that installs the app sets them in its root URLconf (as config/urls.py does):

    handler400 = "support.api.handlers.bad_request"
    handler403 = "support.api.handlers.permission_denied"
    handler404 = "support.api.handlers.page_not_found"
    handler500 = "support.api.handlers.server_error"
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views import defaults

from . import urls


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _for_the_api(request):
        return _error(400, _("The request is malformed."))
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _for_the_api(request):
        return _error(403, _("This request is not allowed."))
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _for_the_api(request):
        return _error(404, _("There is no such API call."))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _for_the_api(request):
        return _error(500, _("Something went wrong on our side; the error has been logged."))
    return defaults.server_error(request)


def _for_the_api(request: HttpRequest) -> bool:
    """Whether the request's path is one of the API's, wherever the project mounts it."""
    try:
        return resolve(request.path_info).namespace == urls.app_name
    except (Resolver404, ValueError):  # ValueError: a path with a NUL
        return False


def _error(status: int, message: str) -> JsonResponse:
    # The query's id is not read: whatever failed may have been reading the request.
    return JsonResponse(
        {"event": "error", "id": None, "error": message},
        status=status,
        json_dumps_params={"separators": (",", ":")},  # as the API renders its own
    )
