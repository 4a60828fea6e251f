"""A backend for tests: forwards into `outbox`, a list in memory, like Django's locmem mail."""

from ..models import Delivery, Ticket
from .base import BaseForwardBackend, ForwardResult

outbox: list[dict] = []


class ForwardBackend(BaseForwardBackend):
    def forward(self, ticket: Ticket, delivery: Delivery) -> ForwardResult:
        outbox.append({"ticket": ticket.pk, "delivery": delivery.pk, "subject": ticket.subject})
        return ForwardResult(external_id=f"locmem-{len(outbox)}")
