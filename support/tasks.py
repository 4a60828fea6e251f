"""The worker side of deliveries: the background tasks, run by the configured
django-tasks backend's workers, and what they do (support.deliveries schedules them).

`plan_and_deliver` turns what new tickets cause into Delivery rows and sends them;
`deliver` sends the given ones. Each delivery is claimed (one worker at a time, for
DELIVERY_CLAIM_SECONDS), sent, and recorded; a failure is retried with exponential backoff
until DELIVERY_MAX_ATTEMPTS, then marked failed for staff to see and retry.
"""

import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task

from . import cache
from .backends import get_forward_backend
from .conf import get_setting
from .exceptions import DeliveryError
from .mail import send_delivery_mail
from .models import Delivery, Ticket

logger = logging.getLogger(__name__)

# What a failed delivery raises that is worth retrying. Anything else (a bug, a
# misconfiguration) propagates, and the delivery is resumed once its claim expires.
RETRYABLE = (DeliveryError, smtplib.SMTPException, OSError)
PLAN_BATCH = 100


@task()
def deliver(delivery_ids: list[int]) -> None:
    """Attempt each delivery; one that raises unexpectedly does not stop the others."""
    errors = []
    for delivery_id in delivery_ids:
        try:
            attempt(delivery_id)
        except Exception as err:  # noqa: BLE001  (re-raised below, after the others ran)
            errors.append(err)
    if errors:
        raise errors[0]


@task()
def plan_and_deliver() -> None:
    """Plan and send the deliveries of new tickets (see support.deliveries.wake)."""
    _plan_and_deliver()


def wake_key() -> str:
    """The cache key of the flag that says a worker is woken (support.deliveries.wake sets
    it; the worker takes it down when nothing is left to plan)."""
    return cache.key("deliveries", "worker-woken")


def _plan_and_deliver() -> None:
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
    enqueue([delivery.pk], run_after=next_attempt_at)


def enqueue(ids: Iterable[int], run_after: datetime | None = None) -> None:
    """Have a worker attempt these deliveries, when due (`run_after`, if the task backend
    can defer: else at once, and `attempt` leaves what is not due yet)."""
    ids = list(ids)
    if ids:
        _enqueue(deliver, ids, run_after=run_after)


def enqueue_planning() -> None:
    """Have a worker plan and send the deliveries of new tickets."""
    _enqueue(plan_and_deliver)


def _enqueue(task, *args, run_after: datetime | None = None) -> None:
    if task.get_backend().supports_defer:
        # Always a time, never "no time": the database backend runs tasks that have a
        # time before those without one, so retries would starve first attempts.
        task.using(run_after=run_after or timezone.now()).enqueue(*args)
    else:
        task.enqueue(*args)
