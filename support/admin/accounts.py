"""Accounts in the admin: a list ranked by recent activity, and one page per account.

There is no account table (accounts live on the platform), so `Account` is a proxy of
Ticket that gives the admin an entry in its index, URLs and a permission; its pages are
views of their own over support.accounts, which never counts the whole ticket table.
"""

import datetime
import uuid

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .. import accounts
from ..models import Account, ApiKey, Ticket

ACCOUNTS_PER_PAGE = 50
TICKETS_PER_PAGE = 50


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """The accounts list and each account's page, as views of their own over
    support.accounts; nothing to add, change or delete."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(self.accounts_view), name="support_account_changelist"),
            path("<uuid:account_id>/", view(self.account_view), name="support_account_detail"),
        ]

    def _check_view(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def _context(self, request, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    def accounts_view(self, request):
        """Accounts, most recent ticket activity first, a page at a time (`?after=`)."""
        self._check_view(request)
        term = request.GET.get("q", "").strip()
        if term:
            try:
                account_id = uuid.UUID(term)
            except ValueError:
                error = _("Enter an account id (a UUID) to open that account's page.")
            else:
                return HttpResponseRedirect(
                    reverse("admin:support_account_detail", args=[account_id])
                )
        else:
            error = ""
        after = _parse_position(request.GET)
        if after is None and "after" in request.GET:
            error = error or _(
                "That page of the list could not be found: here are the most recent."
            )
        page = accounts.recent_accounts(limit=ACCOUNTS_PER_PAGE, after=after)
        next_url = ""
        if page.next:
            next_url = "?" + urlencode(
                {"after": page.next.updated_at.isoformat(), "after_id": page.next.ticket_id}
            )
        context = self._context(
            request,
            title=_("Accounts by recent activity"),
            subtitle=None,
            page=page,
            statuses=Ticket.Status.choices,
            next_url=next_url,
            first_page=after is None,
            search_term=term,
            search_error=error,
        )
        return TemplateResponse(request, "admin/support/account/change_list.html", context)

    def account_view(self, request, account_id: uuid.UUID):
        """One account: counts by status, first and last contact, its tickets and keys."""
        self._check_view(request)
        summary = accounts.summary(account_id)
        keys = list(ApiKey.objects.filter(account_id=account_id).order_by("-created_at"))
        tickets = Ticket.objects.filter(account_id=account_id).order_by("-updated_at", "-id")
        paginator = Paginator(tickets, TICKETS_PER_PAGE)
        paginator.count = summary.total  # known from the summary: no COUNT query
        try:
            page = paginator.page(request.GET.get("p", 1))
        except InvalidPage:
            raise Http404(_("No such page.")) from None
        context = self._context(
            request,
            title=_("Account %(id)s") % {"id": account_id},
            subtitle=None,
            account_id=account_id,
            summary=summary,
            status_counts=[
                (value, label, summary.count(value)) for value, label in Ticket.Status.choices
            ],
            keys=keys,
            page=page,
            tickets_url=reverse("admin:support_ticket_changelist")
            + "?"
            + urlencode({"q": str(account_id)}),
            can_view_tickets=request.user.has_perm("support.view_ticket"),
            can_view_keys=request.user.has_perm("support.view_apikey"),
            can_add_key=request.user.has_perm("support.add_apikey"),
        )
        return TemplateResponse(
            request,
            "admin/support/account/detail.html",
            context,
            # Nothing here knows this account: say so rather than show an empty page as found.
            status=200 if summary.total or keys else 404,
        )


def _parse_position(params) -> accounts.Position | None:
    """The `after` and `after_id` of a "Next page" link; None (the first page) if absent
    or malformed, or if the time is not one the database holds (it is compared in UTC:
    9999-12-31T23:59-23:59 would be in the year 10000)."""
    try:
        when = parse_datetime(params.get("after", ""))
        ticket_id = uuid.UUID(params.get("after_id", ""))
        if when is None:
            return None
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        return accounts.Position(when.astimezone(datetime.UTC), ticket_id)
    except (ValueError, OverflowError):
        return None
