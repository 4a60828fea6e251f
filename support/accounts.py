"""Accounts as staff see them, computed from tickets and keys: there is no account table.

Accounts live on the platform; the desk knows one only by the `account_id` its tickets and
keys carry. Storing a summary per account would add a write to every ticket created (the
API creates in one statement), so these read what is there, through indexes, without ever
counting or grouping the whole ticket table:

- `recent_accounts()` walks the tickets newest-updated first (index
  support_tkt_account_activity), keeping each ticket that is its account's latest (one
  probe of the account index, support_tkt_account, per ticket walked): the accounts in
  order of last activity. A page starts where the previous one ended, so it reads about
  as many tickets as were updated in its span of time, however deep it is. Then one
  GROUP BY over just that page's accounts gives their counts.
- `summary()` groups one account's tickets by status.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Exists, Max, Min, OuterRef, Q

from .models import Ticket


@dataclass
class AccountSummary:
    """An account's tickets: how many in each status, first and last contact."""

    account_id: uuid.UUID
    counts: dict[str, int] = field(default_factory=dict)
    first_contact: datetime | None = None
    last_activity: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def status_counts(self) -> list[int]:
        """The counts in the order of Ticket.Status."""
        return [self.count(status) for status in Ticket.Status.values]


@dataclass(frozen=True)
class Position:
    """A place in the walk: the ticket (its updated_at and id) an account list page ended
    at. The next page starts strictly after it."""

    updated_at: datetime
    ticket_id: uuid.UUID


@dataclass
class AccountPage:
    """One page of the accounts list, most recently active first."""

    accounts: list[AccountSummary]
    next: Position | None  # where the next page starts; None: this is the last page


def summaries(account_ids: list[uuid.UUID]) -> dict[uuid.UUID, AccountSummary]:
    """The summaries of `account_ids`, in one query; accounts without tickets are left out."""
    found: dict[uuid.UUID, AccountSummary] = {}
    rows = (
        Ticket.objects.filter(account_id__in=account_ids)
        .order_by()
        .values("account_id", "status")
        .annotate(n=Count("id"), first=Min("created_at"), last=Max("updated_at"))
    )
    for row in rows:
        summary = found.setdefault(row["account_id"], AccountSummary(row["account_id"]))
        summary.counts[row["status"]] = row["n"]
        if summary.first_contact is None or row["first"] < summary.first_contact:
            summary.first_contact = row["first"]
        if summary.last_activity is None or row["last"] > summary.last_activity:
            summary.last_activity = row["last"]
    return found


def summary(account_id: uuid.UUID) -> AccountSummary:
    """One account's summary (all zero if it has no tickets)."""
    return summaries([account_id]).get(account_id, AccountSummary(account_id))


def recent_accounts(*, limit: int, after: Position | None = None) -> AccountPage:
    """The `limit` accounts with the most recent ticket activity (after `after`, the end
    of the previous page, if given), with their summaries; two queries."""
    newer = Ticket.objects.filter(
        Q(updated_at__gt=OuterRef("updated_at"))
        | Q(updated_at=OuterRef("updated_at"), id__gt=OuterRef("id")),
        account_id=OuterRef("account_id"),
        updated_at__gte=OuterRef("updated_at"),  # bounds the probe's index range
    )
    latest = Ticket.objects.filter(account_id__isnull=False).exclude(Exists(newer))
    if after is not None:
        # `updated_at <= t` lets the index start at t; the exclusion drops what is at t
        # but not past the previous page's last ticket.
        latest = latest.filter(updated_at__lte=after.updated_at).exclude(
            updated_at=after.updated_at, id__gte=after.ticket_id
        )
    rows = list(
        latest.order_by("-updated_at", "-id").values_list("account_id", "updated_at", "id")[
            : limit + 1
        ]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    found = summaries([account_id for account_id, _at, _id in rows]) if rows else {}
    accounts = [found[account_id] for account_id, _at, _id in rows if account_id in found]
    end = Position(rows[-1][1], rows[-1][2]) if more else None
    return AccountPage(accounts, end)
