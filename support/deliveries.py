"""Deliveries: the e-mail and forwards a ticket causes, sent by a worker after commit.

The write path stores, in the ticket's own row, which deliveries it causes, and on commit
wakes the worker (`wake()`: one task, however many tickets arrive while it is queued or
running). The worker's `plan_and_deliver()` turns those into Delivery rows and sends them;
each delivery is claimed, sent, and recorded, and a failure is retried with exponential
backoff until DELIVERY_MAX_ATTEMPTS, then marked failed for staff to see and retry.
Because what must be sent is stored in rows, none of it is lost if the process dies before
waking the worker or a worker dies while sending: `resume()` (run when workers start, or
from cron) picks up everything unplanned or pending. So what runs after commit never fails
the request that committed: an error there (the task broker down) is logged at ERROR.
"""

import logging
import smtplib
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from . import cache
from .backends import get_forward_backend
from .conf import get_setting
from .exceptions import DeliveryError
from .mail import send_delivery_mail
from .models import Delivery, Message, Ticket

logger = logging.getLogger(__name__)

# What a failed delivery raises that is worth retrying. Anything else (a bug, a
# misconfiguration) propagates, and the delivery is resumed once its claim expires.
RETRYABLE = (DeliveryError, smtplib.SMTPException, OSError)

# A worker that died holding the flag blocks wake-ups for this long at most.
WAKE_SECONDS = 10
PLAN_BATCH = 100


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
    transaction.on_commit(lambda: _enqueue([delivery.pk]), robust=True)
    return delivery


def wake() -> None:
    """Make sure a worker will plan and send new tickets' deliveries: enqueue one task,
    unless one is already queued or running (a flag in the shared cache says so; if the
    cache fails, a task too many is better than a ticket nobody plans)."""
    if cache.add(wake_key(), True, WAKE_SECONDS) is not False:
        _enqueue_task("plan_and_deliver")


def wake_key() -> str:
    """The cache key of the flag that says a worker is woken (support.cache.key)."""
    return cache.key("deliveries", "worker-woken")


def plan_and_deliver() -> None:
    """Store the deliveries of every ticket that has some to plan, and send them."""
    errors = []
    while True:
        planned = _plan(limit=PLAN_BATCH)
        for delivery_id in planned:
            try:
                attempt(delivery_id)
            except Exception as err:  # noqa: BLE001  (re-raised below, after the others)
                errors.append(err)
        if planned:
            continue
        # A ticket committed while the flag was up did not wake anyone: it committed
        # before this deletion, so the check below sees it.
        cache.delete(wake_key())
        if not Ticket.objects.exclude(unplanned_deliveries="").exists():
            break
    if errors:
        raise errors[0]


def _plan(limit: int) -> list[int]:
    """Turn up to `limit` tickets' unplanned deliveries into Delivery rows; return their ids.
    Each ticket is planned by exactly one worker, however many run."""
    waiting = (
        Ticket.objects.exclude(unplanned_deliveries="")
        .order_by("created_at")
        .values_list("pk", "unplanned_deliveries", "created_at")[:limit]
    )
    ids = []
    for pk, kinds, created_at in waiting:
        with transaction.atomic():
            if Ticket.objects.filter(pk=pk, unplanned_deliveries=kinds).update(
                unplanned_deliveries=""
            ):
                ids += [
                    d.pk
                    for d in Delivery.objects.bulk_create(
                        Delivery(ticket_id=pk, kind=kind, next_attempt_at=created_at)
                        for kind in kinds.split(",")
                    )
                ]
    return ids


def attempt(delivery_id: int) -> None:
    """Send one delivery if it is due and no live worker holds it; record the outcome."""
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING)
        .filter(next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            claimed_until=now + timedelta(seconds=get_setting("DELIVERY_CLAIM_SECONDS")),
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return  # done, not due yet, or another worker is on it
    delivery = Delivery.objects.select_related("ticket", "message").get(pk=delivery_id)
    try:
        _send(delivery)
    except RETRYABLE as err:
        _record_failure(delivery, err)
    else:
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.SENT, sent_at=timezone.now(), claimed_until=None
        )


def retry(deliveries: QuerySet[Delivery]) -> int:
    """Send failed deliveries again, from a fresh count of attempts. Returns how many."""
    ids = list(deliveries.filter(status=Delivery.Status.FAILED).values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(),
        claimed_until=None,
    )  # fmt: skip
    transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return len(ids)


def resume() -> int:
    """Enqueue every pending delivery, to run when due and when any claim on it has
    expired, and plan what tickets have left unplanned. Safe to run at any time: a
    delivery is sent at most once per claim. Returns the number of pending deliveries."""
    _enqueue_task("plan_and_deliver")
    pending = Delivery.objects.filter(status=Delivery.Status.PENDING).values_list(
        "pk", "next_attempt_at", "claimed_until"
    )
    count = 0
    for pk, next_attempt_at, claimed_until in pending.iterator():
        _enqueue([pk], run_after=max(next_attempt_at, claimed_until or next_attempt_at))
        count += 1
    return count


def _send(delivery: Delivery) -> None:
    if delivery.kind == Delivery.Kind.FORWARD:
        backend = get_forward_backend()
        if backend is None:
            raise DeliveryError("Forwarding is turned off (SUPPORT['FORWARD_BACKEND'] is None).")
        result = backend.forward(delivery.ticket, delivery)
        # Not a change the requester cares about: updated_at stays as it is.
        Ticket.objects.filter(pk=delivery.ticket_id).update(
            external_id=result.external_id, external_url=result.url
        )
    else:
        send_delivery_mail(delivery)


def _record_failure(delivery: Delivery, err: Exception) -> None:
    permanent = getattr(err, "permanent", False)
    exhausted = delivery.attempts >= get_setting("DELIVERY_MAX_ATTEMPTS")
    message = f"{type(err).__name__}: {err}"[:2000]
    if permanent or exhausted:
        logger.error(
            "Delivery %s of ticket %s failed: %s", delivery.pk, delivery.ticket_id, message
        )
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, last_error=message, claimed_until=None
        )
        return
    delay = min(
        get_setting("DELIVERY_BACKOFF_SECONDS") * 2 ** (delivery.attempts - 1),
        get_setting("DELIVERY_MAX_BACKOFF_SECONDS"),
    )
    delay = max(delay, getattr(err, "retry_after", None) or 0)
    next_attempt_at = timezone.now() + timedelta(seconds=delay)
    logger.warning(
        "Delivery %s of ticket %s failed (attempt %s), retrying in %ss: %s",
        delivery.pk, delivery.ticket_id, delivery.attempts, delay, message,
    )  # fmt: skip
    Delivery.objects.filter(pk=delivery.pk).update(
        last_error=message, next_attempt_at=next_attempt_at, claimed_until=None
    )
    _enqueue([delivery.pk], run_after=next_attempt_at)


def _enqueue(ids: Iterable[int], run_after=None) -> None:
    ids = list(ids)
    if ids:
        _enqueue_task("deliver", ids, run_after=run_after)


def _enqueue_task(name: str, *args, run_after=None) -> None:
    from . import tasks  # tasks.py imports this module

    task = getattr(tasks, name)
    if task.get_backend().supports_defer:
        # Always a time, never "no time": the database backend runs tasks that have a
        # time before those without one, so retries would starve first attempts.
        task.using(run_after=run_after or timezone.now()).enqueue(*args)
    else:
        task.enqueue(*args)
