"""Accounts as staff see them, computed from tickets and keys: there is no account table.

Accounts live on the platform; the desk knows one only by the `account_id` its tickets and
keys carry. Storing a summary per account would add a write to every ticket created (the
API creates in one statement), so these read what is there, through indexes, without ever
counting or grouping the whole ticket table:

- `recent_accounts()` walks the tickets newest-updated first (index
  support_tkt_account_activity) collecting distinct account ids, then groups only those
  accounts' tickets (index support_tkt_account). A later page skips, within the walk,
  the accounts of earlier pages, probing each ticket's account in the account index; so
  it costs more the deeper it is (about a millisecond per earlier page at 50,000
  accounts), which suits a list people read from the top and search otherwise.
- `summary()` groups one account's tickets by status.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Exists, Max, Min, OuterRef

from .models import Ticket

# Rows read per step of the walk: at 20 tickets per account, the 50 most recently active
# accounts are nearly always within the first few hundred tickets.
WALK_CHUNK = 500
MAX_WALK = 50_000  # never read more than this many index entries for one page


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

    @property
    def open_work(self) -> int:
        """Tickets waiting for staff (new or open)."""
        return self.count(Ticket.Status.NEW) + self.count(Ticket.Status.OPEN)


@dataclass
class AccountPage:
    """One page of the accounts list, most recently active first."""

    accounts: list[AccountSummary]
    next_before: datetime | None  # pass as `before` for the next page; None: no more


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


def recent_accounts(*, limit: int, before: datetime | None = None) -> AccountPage:
    """The `limit` accounts whose last ticket activity is the most recent strictly before
    `before` (or at all, if None), with their summaries; two queries in the usual case.

    Walking tickets newest-updated first, the first time an account is met is its last
    activity within the walk; an account whose last activity is at or after `before` was
    on an earlier page and is skipped. So accepted accounts come in the page's order.
    """
    accepted: list[AccountSummary] = []
    seen: set[uuid.UUID] = set()
    pending: list[uuid.UUID] = []  # met in the walk, not yet summarised, in walk order
    walk = _walk(before)
    exhausted = False
    while len(accepted) < limit:
        while len(pending) < limit - len(accepted) and not exhausted:
            try:
                account_id = next(walk)
            except StopIteration:
                exhausted = True
                break
            if account_id not in seen:
                seen.add(account_id)
                pending.append(account_id)
        if not pending:
            break
        batch, pending = pending, []
        found = summaries(batch)
        accepted.extend(
            found[a]
            for a in batch
            if a in found and (before is None or found[a].last_activity < before)
        )
    more = bool(accepted) and not exhausted
    return AccountPage(accepted, accepted[-1].last_activity if more else None)


def _walk(before: datetime | None):
    """Account ids of tickets, most recently updated first, in chunks (one query each).

    Each chunk starts at the last instant of the one before, skipping the rows of that
    instant already read, so that tickets updated at the same instant are neither lost
    nor read twice.
    """
    tickets = Ticket.objects.filter(account_id__isnull=False)
    if before is not None:
        # Leave out, in the same query, accounts active since `before`: they were on an
        # earlier page (one probe of the account index per ticket walked).
        tickets = tickets.exclude(
            Exists(Ticket.objects.filter(account_id=OuterRef("account_id"), updated_at__gte=before))
        )
    last, inclusive, skip = before, False, 0
    for _step in range(MAX_WALK // WALK_CHUNK):
        rows = tickets
        if last is not None:
            rows = rows.filter(**{"updated_at__lte" if inclusive else "updated_at__lt": last})
        chunk = list(
            rows.order_by("-updated_at", "-id").values_list("account_id", "updated_at")[
                skip : skip + WALK_CHUNK
            ]
        )
        for account_id, _updated in chunk:
            yield account_id
        if len(chunk) < WALK_CHUNK:
            return
        instant = chunk[-1][1]
        at_instant = sum(1 for _account, updated in chunk if updated == instant)
        if inclusive and instant == last:
            skip += at_instant  # the whole chunk was of one instant: read on past it
        else:
            last, inclusive, skip = instant, True, at_instant
