"""List filters for tickets that find their choices without reading the ticket table."""

import json

from django.contrib import admin
from django.db import connections
from django.utils.translation import gettext_lazy as _

from ..models import QUEUE_ORDER, Ticket, status_rank

# The tag filter offers the tags of this many most recent tickets (one indexed query);
# any other tag is reachable by editing `?tag=` in the address.
RECENT_TAG_SAMPLE = 1000


class StatusFilter(admin.SimpleListFilter):
    """Filters on the status's rank, so the queue's index (support_tkt_queue) serves both
    the filter and the open-work-first order."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Ticket.Status.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value in QUEUE_ORDER:
            return queryset.alias(queue_rank=status_rank()).filter(
                queue_rank=QUEUE_ORDER.index(value)
            )
        return queryset


class TagFilter(admin.SimpleListFilter):
    """Tickets with one tag; offers the tags of recent tickets."""

    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        recent = Ticket.objects.order_by("-created_at").values_list("tags", flat=True)
        tags = sorted({tag for tags in recent[:RECENT_TAG_SAMPLE] for tag in tags or []})
        if self.value() and self.value() not in tags:
            tags.append(self.value())
        return [(tag, tag) for tag in tags]

    def queryset(self, request, queryset):
        tag = self.value()
        if not tag:
            return queryset
        if connections[queryset.db].vendor == "postgresql":
            return queryset.filter(tags__contains=[tag])  # served by the GIN index
        # SQLite has no JSON containment: match the tag as a quoted JSON string.
        return queryset.filter(tags__icontains=json.dumps(tag))


class HasAccountFilter(admin.SimpleListFilter):
    """Tickets with or without an account id."""

    title = _("account")
    parameter_name = "has_account"

    def lookups(self, request, model_admin):
        return [("yes", _("With account")), ("no", _("Without account"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(account_id__isnull=self.value() == "no")
        return queryset
