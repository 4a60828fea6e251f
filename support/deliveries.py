"""Deliveries: the e-mail and forwards a ticket causes, sent by a worker after commit.

The write path stores, in the ticket's own row, which deliveries it causes, and on commit
wakes the worker (`wake()`: one task, however many tickets arrive while it is queued or
running); a reply's delivery is stored with it (`schedule()`). The worker side, which
plans, sends, records and retries them, is support.tasks.
Because what must be sent is stored in rows, none of it is lost if the process dies before
waking the worker or a worker dies while sending: `resume()` (run when workers start, or
from cron) picks up everything unplanned or pending. So what runs after commit never fails
the request that committed: an error there (the task broker down) is logged at ERROR.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from . import cache, tasks
from .conf import get_setting
from .models import Delivery, Message, Ticket

# A worker that died holding the flag blocks wake-ups for this long at most.
WAKE_SECONDS = 10


def kinds_for_new_ticket() -> list[str]:
    """What a new ticket causes, as configured."""
    kinds = []
    if get_setting("CONFIRM_TO_REQUESTER"):
        kinds.append(Delivery.Kind.CONFIRMATION)
    if get_setting("STAFF_EMAILS"):
        kinds.append(Delivery.Kind.STAFF_NOTIFICATION)
    if get_setting("FORWARD_BACKEND"):
        kinds.append(Delivery.Kind.FORWARD)
    return kinds


def schedule(ticket: Ticket, kind: str, *, message: Message | None = None) -> Delivery:
    """Store a delivery about `ticket` (inside the caller's transaction) and send it after
    commit. For the occasional ones (replies); new tickets go through `wake()`."""
    delivery = Delivery.objects.create(ticket=ticket, kind=kind, message=message)
    transaction.on_commit(lambda: tasks.enqueue([delivery.pk]), robust=True)
    return delivery


def wake() -> None:
    """Make sure a worker will plan and send new tickets' deliveries: enqueue one task,
    unless one is already queued or running (a flag in the shared cache says so; if the
    cache fails, a task too many is better than a ticket nobody plans)."""
    if cache.add(tasks.wake_key(), True, WAKE_SECONDS) is not False:
        tasks.enqueue_planning()


def retry(deliveries: QuerySet[Delivery]) -> int:
    """Send failed deliveries again, from a fresh count of attempts. Returns how many."""
    ids = list(deliveries.filter(status=Delivery.Status.FAILED).values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(),
        claimed_until=None,
    )  # fmt: skip
    transaction.on_commit(lambda: tasks.enqueue(ids), robust=True)
    return len(ids)


def resume() -> int:
    """Enqueue every pending delivery, to run when due and when any claim on it has
    expired, and plan what tickets have left unplanned. Safe to run at any time: a
    delivery is sent at most once per claim. Returns the number of pending deliveries."""
    tasks.enqueue_planning()
    pending = Delivery.objects.filter(status=Delivery.Status.PENDING).values_list(
        "pk", "next_attempt_at", "claimed_until"
    )
    count = 0
    for pk, next_attempt_at, claimed_until in pending.iterator():
        tasks.enqueue([pk], run_after=max(next_attempt_at, claimed_until or next_attempt_at))
        count += 1
    return count
