"""The requester's pages. Include at any prefix, e.g. path("support/", include("support.urls")).

Every view here is throttled per client (support.throttling); wrap one in `exempt()` to
leave it out (a health check).
"""

from django.urls import path

from . import downloads, views
from .throttling import throttle_patterns

app_name = "support"

urlpatterns = throttle_patterns(
    [
        path("tickets/<uuid:pk>/<str:key>/", views.ticket_detail, name="ticket"),
        path("tickets/<uuid:pk>/<str:key>/solved/", views.ticket_solved, name="ticket-solved"),
        path(
            "tickets/<uuid:pk>/<str:key>/files/<uuid:file>/",
            downloads.ticket_file,
            name="ticket-file",
        ),
        path(
            "tickets/<uuid:pk>/<str:key>/files/<uuid:file>/thumbnail/",
            downloads.ticket_file,
            {"thumbnail": True},
            name="ticket-thumbnail",
        ),
        # Links that expire, sent with forwarded tickets.
        path("files/<str:token>/", downloads.signed_file, name="signed_file"),
        path("new/", views.new_ticket, name="new"),
        path("new/sent/<uuid:pk>/<str:key>/", views.ticket_filed, name="filed"),
        # The same for the widget's iframe: no site chrome, frameable by FRAME_ANCESTORS.
        path("embed/", views.embedded_ticket, name="embedded_new"),
        path("embed/open/", views.embedded_ticket_open, name="embedded_open"),
        path(
            "embed/sent/<uuid:pk>/<str:key>/",
            views.embedded_ticket_filed,
            name="embedded_filed",
        ),
    ]
)
