"""What the app's admin lists take from their address: list filters for tickets that find
their choices without reading the ticket table, and the checks that turn a query string the
database could not take into "the filters were ignored" instead of an error."""

import datetime
import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Exists, Field, OuterRef
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.text import smart_split
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import QUEUE_ORDER, Attachment, Ticket, status_rank

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


class HasAttachmentsFilter(admin.SimpleListFilter):
    """Tickets with or without files, in any message (the attachments' ticket index)."""

    title = _("files")
    parameter_name = "has_files"

    def lookups(self, request, model_admin):
        return [("yes", _("With files")), ("no", _("Without files"))]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        files = Attachment.objects.filter(ticket=OuterRef("pk"), message__isnull=False)
        return queryset.filter(Exists(files) if self.value() == "yes" else ~Exists(files))


# A search uses this many words at most, of this many characters in all: each word is a
# condition on every search field, and SQLite refuses an expression tree over 1000 deep
# (about 300 words over three fields) or a LIKE pattern over 50,000 bytes.
MAX_SEARCH_WORDS = 20
MAX_SEARCH_CHARS = 1000


class CheckedQueryMixin:
    """For a ModelAdmin: a list whose address the database cannot take shows the whole list
    and says so, instead of failing; a search of more words than a database takes
    searches the first MAX_SEARCH_WORDS and says so; an action on selected rows acts on
    those whose ids are ids of this list (a malformed one is no row).

    Django's changelist already redirects to `?e=1` when its filters raise
    IncorrectLookupParameters; this raises it for what would only fail in the database (a
    NUL character: PostgreSQL's text cannot hold one) and for any parameter none of the
    list's filters takes (see CheckedChangeList), says why on the `?e=1` page, and
    never shows Django's "database error" page for an address that merely still carries
    bad parameters.
    """

    def get_changelist_instance(self, request):
        if any("\x00" in key or "\x00" in value for key, value in _items(request.GET)):
            raise IncorrectLookupParameters("A NUL character in the address.")
        try:
            return super().get_changelist_instance(request)
        except DisallowedModelAdminLookup as err:
            raise IncorrectLookupParameters(err) from None

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def get_search_results(self, request, queryset, search_term):
        words = list(smart_split(search_term))
        if len(words) > MAX_SEARCH_WORDS or len(search_term) > MAX_SEARCH_CHARS:
            search_term = " ".join(words[:MAX_SEARCH_WORDS])[:MAX_SEARCH_CHARS]
            self.message_user(
                request,
                gettext("Only the first %(words)d words (%(chars)d characters) were searched.")
                % {"words": MAX_SEARCH_WORDS, "chars": MAX_SEARCH_CHARS},
                messages.WARNING,
            )
        return super().get_search_results(request, queryset, search_term)

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        usable = [value for value in selected if is_stored_value(self.opts.pk, value)]
        if usable != selected:
            # Django would hand them to the database, which raises (a 500) for a value that
            # is no id of this table: it is no row, as one deleted meanwhile is none.
            request.POST = request.POST.copy()
            request.POST.setlist(helpers.ACTION_CHECKBOX_NAME, usable)
        return super().response_action(request, queryset)

    def changelist_view(self, request, extra_context=None):
        if ERROR_FLAG in request.GET:
            if len(request.GET) > 1:
                return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
            self.message_user(
                request,
                gettext(
                    "The filters or the page in the address could not be used: here is the "
                    "whole list."
                ),
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)


class CheckedChangeList(ChangeList):
    """A changelist that filters through its list filters alone.

    Django would run whatever lookup the address names on any field (`id__gt=`,
    `subject__regex=(`, `created_at__year=1e30`): each a way to a query the database refuses
    (a 500), or to one no index serves on a table of millions. A parameter no filter took is
    refused instead, like a malformed one.
    """

    def get_filters(self, request):
        filters = super().get_filters(request)
        remaining = filters[2]
        if remaining:
            raise IncorrectLookupParameters(f"No filter of this list takes {sorted(remaining)}.")
        return filters


# What every supported database's integer columns hold (PostgreSQL's bigint, SQLite's).
BIGGEST_INTEGER = 2**63 - 1


def is_stored_value(field: Field, value: object) -> bool:
    """Whether `value` (text from an address or a form) can be looked up in `field`'s
    column: it converts (a UUID, a number), fits the database (a 64-bit integer), and
    holds no NUL (PostgreSQL's text cannot)."""
    try:
        python = field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    if isinstance(python, int):
        return -BIGGEST_INTEGER - 1 <= python <= BIGGEST_INTEGER
    if isinstance(python, str):
        return "\x00" not in python
    return python is not None


def _items(query):
    for key, values in query.lists():
        for value in values:
            yield key, value


class DateFilter(admin.DateFieldListFilter):
    """Django's date filter, with each date of the address checked before any query runs.

    A date the field cannot parse, or one outside what the database holds once in UTC
    (9999-12-31T23:59-23:59 is in the year 10000; PostgreSQL refuses offsets past 15:59),
    is refused like any malformed date: the list is shown without its filters.
    """

    def queryset(self, request, queryset):
        for name, values in self.used_parameters.items():
            if not name.endswith("__isnull"):
                self.used_parameters[name] = [self._in_utc(value) for value in values]
        return super().queryset(request, queryset)

    def _in_utc(self, value):
        try:
            parsed = self.field.to_python(value)
        except ValidationError as err:
            raise IncorrectLookupParameters(err) from None
        if not isinstance(parsed, datetime.datetime):
            return parsed
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError as err:
            raise IncorrectLookupParameters(err) from None
