from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import deliveries
from .models import ApiKey, Delivery, Ticket


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ["kind", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _retried(modeladmin, request, count: int) -> None:
    modeladmin.message_user(
        request,
        ngettext("Retrying %d delivery.", "Retrying %d deliveries.", count) % count,
        messages.SUCCESS if count else messages.WARNING,
    )


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["subject", "requester_email", "account_id", "status", "channel", "created_at"]
    list_filter = ["status", "channel"]
    search_fields = ["subject", "requester_email", "requester_name"]
    readonly_fields = [
        "id", "body", "description", "fingerprint", "api_key", "created_at",
        "external_id", "external_url",
    ]  # fmt: skip
    show_full_result_count = False
    inlines = [DeliveryInline]
    actions = ["retry_failed_deliveries"]

    @admin.action(description=_("Retry failed deliveries of the selected tickets"))
    def retry_failed_deliveries(self, request, queryset):
        _retried(self, request, deliveries.retry(Delivery.objects.filter(ticket__in=queryset)))

    def has_add_permission(self, request) -> bool:
        return False  # tickets are filed through support.tickets, which the admin does not call yet


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "kind", "account_id", "created_at", "last_used_at"]
    list_filter = ["kind"]
    search_fields = ["prefix", "name"]
    readonly_fields = ["kind", "account_id", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are made by `manage.py support_keys create`, which shows the secret


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["ticket"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry"]
    show_full_result_count = False

    @admin.action(description=_("Retry the selected failed deliveries"))
    def retry(self, request, queryset):
        _retried(self, request, deliveries.retry(queryset))

    def has_add_permission(self, request) -> bool:
        return False
