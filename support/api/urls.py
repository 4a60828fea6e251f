"""The API. Include at api/v1/ for CoCalc's paths: path("api/v1/", include("support.api.urls"))."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import (
    schema,  # noqa: F401  (registers the authentication scheme)
    views,
)
from .throttling import ClientRateThrottle

app_name = "support_api"

urlpatterns = [
    path("create_support_ticket", views.CreateSupportTicket.as_view(), name="create"),
    path("get_support_tickets", views.GetSupportTickets.as_view(), name="list"),
    # Anyone may read these: throttled per client, as the requester's pages are.
    path(
        "schema/", SpectacularAPIView.as_view(throttle_classes=[ClientRateThrottle]), name="schema"
    ),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="support_api:schema", throttle_classes=[ClientRateThrottle]
        ),
        name="docs",
    ),
    re_path(r"^.*$", views.UnknownCallView.as_view(), name="unknown"),
]
