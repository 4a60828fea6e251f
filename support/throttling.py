"""Every page the app shows to anyone is throttled per client (SUPPORT["CLIENT_RATE"]),
and reads a body only through support.bodies' checks.

support/urls.py passes its patterns through `throttle_patterns()`, so a view added there
is throttled and its body checked (size, framing, charset, CSRF after the body is read:
support.bodies.reads_body), a body refused answering with a page of its status. A view is
throttled unless it says otherwise: a view that must answer however often it is asked
(a load balancer's health check, polled every few seconds from one address) is wrapped
in `exempt()`:

    from support.throttling import exempt
    path("health/", exempt(HealthCheckView.as_view()), name="health")

A project can throttle a view of its own the same way, with `throttled(view)`.

The client is the account of a signed identity the request carries (the widget's
`identity`), else its network (support.clients). Over the limit, a person gets a 429 page
saying how long to wait, with Retry-After; a refused POST shows what was typed, in a form
that sends it again as it was.
"""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern
from django.utils.cache import add_never_cache_headers

from . import bodies, clients, ratelimit, requester
from .exceptions import RequestRefused
from .framing import frameable

View = Callable[..., HttpResponse]
# Sent back as they were typed, shown (the rest is sent back hidden); secrets never are.
SHOWN_FIELDS = ("subject", "body")
NEVER_KEPT = ("csrfmiddlewaretoken", "password")


def exempt(view: View) -> View:
    """`view`, never throttled per client (e.g. a health check); its body is still checked."""

    # A wrapper, as csrf_exempt makes: marking `view` itself would exempt it everywhere.
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return view(request, *args, **kwargs)

    wrapper.support_throttle_exempt = True
    return wrapper


def throttled(view: View) -> View:
    """`view`, counted per client under SUPPORT["CLIENT_RATE"]; a 429 page when over. Its
    body is read through support.bodies.reads_body (a refused body is counted too)."""
    view = bodies.reads_body(view)
    if getattr(view, "support_throttle_exempt", False):
        return view

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        identity = None
        if request.method == "POST":
            # Read the body as the view will (support.bodies), before anything reads it.
            try:
                bodies.prepare(request, files=bodies.reads_files(view))
            except RequestRefused:
                pass  # the view answers why (support.bodies.reads_body); counted by address
            else:
                # The form carries the signed identity; the widget opens it with one.
                signed = request.POST.get("signed_identity") or request.POST.get("identity")
                identity = requester.signed_identity(signed)
        try:
            ratelimit.hit("CLIENT_RATE", clients.client_key(request, identity))
        except ratelimit.RateLimited as limited:
            # A page shown in the widget's iframe answers so that the iframe shows it.
            embed = getattr(view, "support_frameable", False)
            page = frameable(_too_many_requests) if embed else _too_many_requests
            return page(request, limited, embed=embed)
        return view(request, *args, **kwargs)

    wrapper.support_throttled = True
    return wrapper


def throttle_patterns(patterns: list[URLPattern]) -> list[URLPattern]:
    """The URL patterns with each view `throttled()` (unless marked `exempt()`), and each
    reading its body through support.bodies.reads_body, exempt or not."""
    wrapped = []
    for pattern in patterns:
        if not isinstance(pattern, URLPattern):
            raise TypeError(f"Throttle the views of {pattern!r} where they are defined.")
        wrapped.append(
            URLPattern(
                pattern.pattern, throttled(pattern.callback), pattern.default_args, pattern.name
            )
        )
    return wrapped


def _too_many_requests(
    request: HttpRequest, limited: ratelimit.RateLimited, *, embed: bool
) -> HttpResponse:
    kept = []
    if request.method == "POST":
        kept = [
            (name, value, name in SHOWN_FIELDS)
            for name, values in request.POST.lists()
            for value in values
            if not any(secret in name.lower() for secret in NEVER_KEPT)
        ]
    response = render(
        request,
        "support/too_many_requests.html",
        {
            "minutes": limited.minutes,
            "kept": kept,
            "action": request.get_full_path(),
            "embed": embed,
        },
        status=429,
    )
    response["Retry-After"] = str(limited.retry_after)
    response["X-Robots-Tag"] = "noindex, nofollow"
    add_never_cache_headers(response)
    return response
