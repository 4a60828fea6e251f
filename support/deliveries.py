"""Deliveries: the e-mail and forwards a ticket causes, sent by a worker after commit.

The write path stores a ticket's deliveries in the same transaction as the ticket, then
enqueues a task on commit. A worker claims each delivery, sends it, and records what
happened; a failure is retried with exponential backoff until DELIVERY_MAX_ATTEMPTS, then
the delivery is marked failed for staff to see and retry. Because the deliveries are rows,
not just queued tasks, none is lost if the process dies before enqueueing or a worker dies
while sending: `resume()` (run when a worker starts, or from cron) enqueues every delivery
still pending.
"""

import logging
import smtplib
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from .backends import get_forward_backend
from .conf import get_setting
from .exceptions import DeliveryError
from .mail import send_delivery_mail
from .models import Delivery, Ticket

logger = logging.getLogger(__name__)

# What a failed delivery raises that is worth retrying. Anything else (a bug, a
# misconfiguration) propagates, and the delivery is resumed once its claim expires.
RETRYABLE = (DeliveryError, smtplib.SMTPException, OSError)


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


def schedule_for_new_ticket(ticket: Ticket, kinds: list[str]) -> list[Delivery]:
    """Store the deliveries of `kinds` for `ticket` and enqueue them after commit. Call
    inside the transaction that stores the ticket."""
    if not kinds:
        return []
    deliveries = Delivery.objects.bulk_create(
        Delivery(ticket=ticket, kind=kind, next_attempt_at=ticket.created_at) for kind in kinds
    )
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return deliveries


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
    delivery = Delivery.objects.select_related("ticket").get(pk=delivery_id)
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
    transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def resume() -> int:
    """Enqueue every pending delivery, to run when due and when any claim on it has
    expired. Safe to run at any time: a delivery is sent at most once per claim."""
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
    from .tasks import deliver  # tasks.py imports this module

    ids = list(ids)
    if not ids:
        return
    if deliver.get_backend().supports_defer:
        # Always a time, never "no time": the database backend runs tasks that have a
        # time before those without one, so retries would starve first attempts.
        deliver.using(run_after=run_after or timezone.now()).enqueue(ids)
    else:
        deliver.enqueue(ids)
