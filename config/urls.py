from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from support.throttling import throttled

urlpatterns = [
    path("", TemplateView.as_view(template_name="index.html"), name="home"),
    # Anyone may try to log in, and each try hashes a password: throttled per client.
    path("admin/login/", throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("support.api.urls")),
    path("support/", include("support.urls")),
]
