"""Background tasks, run by the configured django-tasks backend's workers."""

from django_tasks import task

from . import deliveries


@task()
def deliver(delivery_ids: list[int]) -> None:
    """Attempt each delivery; one that raises unexpectedly does not stop the others."""
    errors = []
    for delivery_id in delivery_ids:
        try:
            deliveries.attempt(delivery_id)
        except Exception as err:  # noqa: BLE001  (re-raised below, after the others ran)
            errors.append(err)
    if errors:
        raise errors[0]


@task()
def plan_and_deliver() -> None:
    """Plan and send the deliveries of new tickets (see support.deliveries.wake)."""
    deliveries.plan_and_deliver()
