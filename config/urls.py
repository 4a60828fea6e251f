from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from support.admin.shortcut import view_on_site
from support.throttling import throttled

urlpatterns = [
    # Every page that works for an anonymous visitor is throttled per client: the home page
    # (it shows the help form, whose token is signed for each visit), the login.
    path("", throttled(TemplateView.as_view(template_name="index.html")), name="home"),
    # Anyone may try to log in, and each try hashes a password: throttled per client.
    path("admin/login/", throttled(admin.site.login)),
    # Django's "view on site", with a 404 for any id the address may hold (not a 500).
    path("admin/r/<str:content_type_id>/<path:object_id>/", admin.site.admin_view(view_on_site)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("support.api.urls")),
    path("support/", include("support.urls")),
]

# Django's own 400, 403, 404 and 500 (a Host not allowed, say): JSON under the API.
handler400 = "support.api.handlers.bad_request"
handler403 = "support.api.handlers.permission_denied"
handler404 = "support.api.handlers.page_not_found"
handler500 = "support.api.handlers.server_error"
