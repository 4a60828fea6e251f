from django.contrib import admin

from .models import ApiKey, Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["subject", "requester_email", "account_id", "status", "channel", "created_at"]
    list_filter = ["status", "channel"]
    search_fields = ["subject", "requester_email", "requester_name"]
    readonly_fields = ["id", "body", "description", "fingerprint", "api_key", "created_at"]
    show_full_result_count = False

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
