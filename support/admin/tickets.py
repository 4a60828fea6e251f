"""The ticket list and the ticket page: staff's queue, and where they answer."""

import uuid

from django.contrib import admin, messages
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import conversation, deliveries, downloads, links
from ..models import Attachment, Delivery, Ticket, status_rank
from ..rendering import render_text
from .deliveries import retried
from .export import TicketExportMixin
from .filters import (
    CheckedChangeList,
    CheckedQueryMixin,
    DateFilter,
    HasAccountFilter,
    HasAttachmentsFilter,
    StatusFilter,
    TagFilter,
)
from .forms import TicketForm
from .pagination import CappedPaginationMixin


def account_link(account_id: uuid.UUID | None, *, short: bool = False) -> str:
    """An account id as a link to its page in the admin (`short`: its first 8 characters,
    the whole id in the title), or a dash."""
    if account_id is None:
        return "–"
    url = reverse("admin:support_account_detail", args=[account_id])
    text = f"{str(account_id)[:8]}…" if short else account_id
    return format_html('<a href="{}" title="{}">{}</a>', url, account_id, text)


class DeliveryInline(admin.TabularInline):
    """What the ticket caused (e-mail, forwarding) and how it went; read-only."""

    model = Delivery
    fields = ["kind", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("deliveries (e-mail and forwarding)")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class TicketChangeList(CheckedChangeList):
    """The list reads only what it shows: bodies can be long."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.defer("description", "info", "fingerprint")


@admin.register(Ticket)
class TicketAdmin(TicketExportMixin, CheckedQueryMixin, CappedPaginationMixin, admin.ModelAdmin):
    """Staff's queue (open work first, counted only a few pages ahead) and the ticket page,
    where staff reply, add notes and change status and tags through support.conversation."""

    form = TicketForm
    list_display = [
        "subject", "requester", "account", "status", "tag_list", "channel", "created_at",
        "updated_at",
    ]  # fmt: skip
    list_filter = [
        StatusFilter, TagFilter, "channel", HasAccountFilter, HasAttachmentsFilter,
        ("created_at", DateFilter), ("updated_at", DateFilter),
    ]  # fmt: skip
    search_fields = ["subject", "requester_name", "requester_email"]
    search_help_text = gettext_lazy(
        "Subject, requester name or e-mail; or paste a ticket id or an account id."
    )
    # Open work first, then most recently touched: the order of the index support_tkt_queue.
    ordering = [status_rank().asc(), "-updated_at", "-id"]
    # Only orders an index can serve: any other would sort every matching row.
    sortable_by = ["created_at"]
    list_per_page = 50
    fields = ["status", "tags"]
    actions = ["mark_solved", "mark_closed", "retry_failed_deliveries"]
    change_form_template = "admin/support/ticket/change_form.html"

    # --- the list

    @admin.display(description=gettext_lazy("requester"))
    def requester(self, ticket: Ticket) -> str:
        if ticket.requester_name and ticket.requester_name != ticket.requester_email:
            return format_html("{} &lt;{}&gt;", ticket.requester_name, ticket.requester_email)
        return ticket.requester_email

    @admin.display(description=gettext_lazy("account"))
    def account(self, ticket: Ticket) -> str:
        return account_link(ticket.account_id, short=True)

    @admin.display(description=gettext_lazy("tags"))
    def tag_list(self, ticket: Ticket) -> str:
        return ", ".join(ticket.tags or [])

    def get_search_results(self, request, queryset, search_term):
        # A pasted id goes straight to the primary key and the account index, instead of
        # matching text in every row.
        try:
            wanted = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(Q(pk=wanted) | Q(account_id=wanted)), False

    def get_changelist(self, request, **kwargs):
        return TicketChangeList

    # --- files

    def get_urls(self):
        return [
            path("<path:object_id>/files/<uuid:file_id>/", self.file_view,
                 name="support_ticket_file"),
            path("<path:object_id>/files/<uuid:file_id>/thumbnail/", self.file_view,
                 {"thumbnail": True}, name="support_ticket_file_thumbnail"),
        ] + super().get_urls()  # fmt: skip

    def file_view(self, request, object_id: str, file_id, thumbnail: bool = False):
        """A file of the ticket's conversation (notes' too), to staff who may see tickets;
        404 for anyone else, logged out or not: nothing says that the file exists."""
        user = request.user
        if not (user.is_active and user.is_staff and self.has_view_permission(request)):
            raise Http404
        try:
            ticket_id = uuid.UUID(object_id)
        except ValueError:
            raise Http404 from None
        attachment = Attachment.objects.filter(
            pk=file_id, ticket_id=ticket_id, message__isnull=False
        ).first()
        if attachment is None:
            raise Http404
        return downloads.response(attachment, thumbnail=thumbnail)

    def get_inlines(self, request, obj):
        # The deliveries, when there are any. They are read-only: a POST (saving status or
        # tags) leaves them out, so that one the worker stored meanwhile cannot upset the
        # formset the page was rendered with.
        if request.method != "GET" or obj is None or not obj.deliveries.exists():
            return []
        return [DeliveryInline]

    # --- actions

    @admin.action(
        description=gettext_lazy("Mark the selected tickets solved"), permissions=["change"]
    )
    def mark_solved(self, request, queryset):
        self._set_status(request, queryset, Ticket.Status.SOLVED)

    @admin.action(description=gettext_lazy("Close the selected tickets"), permissions=["change"])
    def mark_closed(self, request, queryset):
        self._set_status(request, queryset, Ticket.Status.CLOSED)

    def _set_status(self, request, queryset, status: str) -> None:
        count = conversation.set_status(queryset, status)
        label = Ticket.Status(status).label
        self.message_user(
            request,
            ngettext(
                "%(count)d ticket set to %(status)s.", "%(count)d tickets set to %(status)s.", count
            )
            % {"count": count, "status": label},
            messages.SUCCESS,
        )

    @admin.action(
        description=gettext_lazy("Retry failed deliveries of the selected tickets"),
        permissions=["change"],
    )
    def retry_failed_deliveries(self, request, queryset):
        retried(self, request, deliveries.retry(Delivery.objects.filter(ticket__in=queryset)))

    # --- the ticket page

    def has_add_permission(self, request) -> bool:
        return False  # tickets come from requesters, through support.tickets.file_ticket

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        # A typed message goes out with the status chosen (unchanged: the message's default)
        # and the status through the conversation's write path, which records the change
        # for the requester; tags are staff's own bookkeeping.
        body = form.cleaned_data.get("body")
        files = form.cleaned_data.get("attachments") or []
        status = obj.status if "status" in form.changed_data else None
        if body and form.cleaned_data["kind"] == TicketForm.NOTE:
            obj.sent_message = conversation.add_note(
                obj, author=request.user, body=body, status=status, attachments=files
            )
        elif body:
            obj.sent_message = conversation.reply(
                obj, author=request.user, body=body, status=status, attachments=files
            )
        elif status:
            conversation.set_status(Ticket.objects.filter(pk=obj.pk), status)
        if "tags" in form.changed_data:
            obj.save(update_fields=["tags"])

    def construct_change_message(self, request, form, formsets, add=False):
        # The ticket's history shows who answered when, besides what changed.
        change = super().construct_change_message(request, form, formsets, add)
        sent = getattr(form.instance, "sent_message", None)
        if sent is not None:
            change.append({"added": {"name": "message", "object": str(sent)}})
        return change

    def response_change(self, request, obj):
        sent = getattr(obj, "sent_message", None)
        if sent is None:
            return super().response_change(request, obj)
        if sent.kind == sent.Kind.NOTE:
            done = _("Note added.")
        else:
            done = _("Reply sent to %(email)s.") % {"email": obj.requester_email}
        self.message_user(request, done, messages.SUCCESS)
        if TicketForm.SEND in request.POST:
            return HttpResponseRedirect(request.path)  # Send stays on the ticket
        return super().response_change(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._page_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _page_context(self, request, ticket: Ticket) -> dict:
        info = dict(ticket.info or {})
        thread = list(ticket.messages.prefetch_related("attachments"))
        own = [message for message in thread[1:] if message.author_id == request.user.pk]
        return {
            # The request alone: the location and course are links in the details below.
            "description_html": render_text(thread[0].body if thread else ""),
            "request_files": list(thread[0].attachments.all()) if thread else [],
            "location_url": links.location_url(ticket.location),
            "course_url": links.course_url(info),
            "info_rows": sorted(info.items()),
            "account_html": account_link(ticket.account_id),
            "conversation": [  # what followed the request
                (message, render_text(message.body)) for message in thread[1:]
            ],
            # What this person sent last: the page's script drops a draft kept of it.
            "last_sent": own[-1].body if own else None,
            "can_answer": self.has_change_permission(request, ticket),
            "requester_page": ticket.requester_path(),
        }
