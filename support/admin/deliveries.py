"""Deliveries (e-mail, forwarding): see their state and retry failed ones."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import deliveries
from ..models import Delivery
from .filters import CheckedQueryMixin
from .pagination import CappedPaginationMixin


def retried(modeladmin: admin.ModelAdmin, request, count: int) -> None:
    """Tell staff how many deliveries a retry action queued."""
    modeladmin.message_user(
        request,
        ngettext("Retrying %d delivery.", "Retrying %d deliveries.", count) % count,
        messages.SUCCESS if count else messages.WARNING,
    )


@admin.register(Delivery)
class DeliveryAdmin(CheckedQueryMixin, CappedPaginationMixin, admin.ModelAdmin):
    """Every delivery, newest first; failed ones can be retried."""

    list_display = ["ticket", "kind", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["ticket"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry"]
    ordering = ["-id"]  # newest first, by the primary key's index
    sortable_by = []

    @admin.action(description=_("Retry the selected failed deliveries"), permissions=["change"])
    def retry(self, request, queryset):
        retried(self, request, deliveries.retry(queryset))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
