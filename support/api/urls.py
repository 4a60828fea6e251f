"""The API. Include at api/v1/ for CoCalc's paths: path("api/v1/", include("support.api.urls"))."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import (
    schema,  # noqa: F401  (registers the authentication scheme)
    views,
)

app_name = "support_api"

urlpatterns = [
    path("create_support_ticket", views.CreateSupportTicket.as_view(), name="create"),
    path("get_support_tickets", views.GetSupportTickets.as_view(), name="list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="support_api:schema"), name="docs"),
    re_path(r"^.*$", views.UnknownCallView.as_view(), name="unknown"),
]
