"""The requester's pages. Include at any prefix, e.g. path("support/", include("support.urls"))."""

from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("tickets/<uuid:pk>/<str:key>/", views.ticket_detail, name="ticket"),
    path("tickets/<uuid:pk>/<str:key>/solved/", views.ticket_solved, name="ticket-solved"),
]
