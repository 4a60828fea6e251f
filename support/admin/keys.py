"""API keys: make one (its secret shown once), revoke, see when and for whom it is used."""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import keys
from ..models import ApiKey
from .filters import CheckedQueryMixin
from .forms import ApiKeyAddForm
from .tickets import account_link


class ActiveFilter(admin.SimpleListFilter):
    """Active or revoked keys."""

    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("revoked", _("Revoked"))]

    def queryset(self, request, queryset):
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(CheckedQueryMixin, admin.ModelAdmin):
    """Keys: made through keys.create_key, revoked through keys.revoke, never deleted."""

    list_display = [
        "prefix_display", "name", "kind", "account", "created_at", "last_used_at", "state",
    ]  # fmt: skip
    list_filter = ["kind", ActiveFilter]
    search_fields = ["prefix", "name"]
    search_help_text = gettext_lazy("A key's prefix (sk_…), its name, or an account id.")
    readonly_fields = ["prefix_display", "kind", "account", "created_at", "last_used_at", "state"]
    fields = ["name", *readonly_fields]
    actions = ["revoke_keys"]
    change_form_template = "admin/support/apikey/change_form.html"

    @admin.display(description=gettext_lazy("key"), ordering="prefix")
    def prefix_display(self, key: ApiKey) -> str:
        return f"{key.prefix}…"

    @admin.display(description=gettext_lazy("account"), ordering="account_id")
    def account(self, key: ApiKey) -> str:
        return account_link(key.account_id) if key.account_id else _("Any (service key)")

    @admin.display(description=gettext_lazy("state"), ordering="revoked_at")
    def state(self, key: ApiKey) -> str:
        if key.revoked_at:
            return _("Revoked %(when)s") % {"when": key.revoked_at.strftime("%Y-%m-%d %H:%M")}
        return _("Active")

    def get_search_results(self, request, queryset, search_term):
        try:
            return queryset.filter(account_id=uuid.UUID(search_term.strip())), False
        except ValueError:
            return super().get_search_results(request, queryset, search_term)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
            kwargs["fields"] = ApiKeyAddForm.Meta.fields
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        return ApiKeyAddForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        key, secret = keys.create_key(
            account_id=form.cleaned_data["account_id"], name=form.cleaned_data["name"]
        )
        # The admin goes on with `obj` (its log entry, the next page): make it the key.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        obj._state.db = key._state.db
        obj.secret_shown_once = secret

    def response_add(self, request, obj, post_url_continue=None):
        # The one time the secret exists outside its owner's hands: show it on this page,
        # which nothing stores (not the session, not a message cookie); admin pages are
        # never cached (Cache-Control: no-store, from admin_view).
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "key": obj,
            "secret": obj.secret_shown_once,
            "title": _("API key created"),
            "account_html": account_link(obj.account_id) if obj.account_id else "",
        }
        return TemplateResponse(request, "admin/support/apikey/created.html", context)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: a deleted key's tickets would lose their link to it

    @admin.action(description=gettext_lazy("Revoke the selected keys"), permissions=["change"])
    def revoke_keys(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            keys.revoke(key)
            revoked += 1
        self.message_user(
            request,
            ngettext("Revoked %d key.", "Revoked %d keys.", revoked) % revoked,
            messages.SUCCESS if revoked else messages.WARNING,
        )

    def get_urls(self):
        urls = [
            path(
                "<int:object_id>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="support_apikey_revoke",
            )
        ]
        return urls + super().get_urls()

    def revoke_view(self, request, object_id: int):
        """The key page's Revoke button (POST only)."""
        # Permission first: staff without it learn nothing, not even which keys exist.
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        key = get_object_or_404(ApiKey, pk=object_id)
        if not self.has_change_permission(request, key):
            raise PermissionDenied
        if key.revoked_at is None:
            keys.revoke(key)
            self.log_change(request, key, [{"changed": {"fields": ["revoked"]}}])
            self.message_user(request, _("Key %s… revoked.") % key.prefix, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:support_apikey_change", args=[key.pk]))
