"""Forward tickets to Zendesk, through its Tickets API.

    SUPPORT = {
        "FORWARD_BACKEND": "support.backends.zendesk.ForwardBackend",
        "ZENDESK_URL": "https://example.zendesk.com",
        "ZENDESK_EMAIL": "agent@example.com",    # the agent the API token belongs to
        "ZENDESK_API_TOKEN": "...",
        "ZENDESK_INFO_FIELDS": {"user_agent": 360001234567},  # optional: info -> custom fields
    }

The requester is set on the ticket itself (name and e-mail, the account id as the user's
external id), the desk's ticket id is the Zendesk ticket's external id, and `info` that no
custom field takes is added as a private note. Creation is idempotent: a retry sends the
same `Idempotency-Key`, so Zendesk answers with the ticket it already made.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import requests

from ..conf import REQUIRED, Setting
from ..exceptions import DeliveryError
from .base import BaseForwardBackend, ForwardResult

if TYPE_CHECKING:
    from ..models import Delivery, Ticket


class ForwardBackend(BaseForwardBackend):
    declared_settings = (
        *BaseForwardBackend.declared_settings,
        Setting("ZENDESK_URL", REQUIRED, str, "Your Zendesk's address (Zendesk backend).",
                "https://example.zendesk.com"),
        Setting("ZENDESK_EMAIL", REQUIRED, str,
                "The agent whose API token the Zendesk backend uses.", "agent@example.com"),
        Setting("ZENDESK_API_TOKEN", REQUIRED, str, "That agent's Zendesk API token."),
        Setting("ZENDESK_INFO_FIELDS", {}, dict,
                "Which `info` keys go to which Zendesk custom field ids (JSON); the rest "
                "become a private note.", '{"user_agent": 360001234567}'),
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.base_url = str(self.setting("ZENDESK_URL")).rstrip("/")
        self.session.auth = (
            f"{self.setting('ZENDESK_EMAIL')}/token",
            self.setting("ZENDESK_API_TOKEN"),
        )
        self.info_fields: dict[str, int] = self.setting("ZENDESK_INFO_FIELDS") or {}

    def forward(self, ticket: Ticket, delivery: Delivery) -> ForwardResult:
        # On a retry after the note failed, the same Idempotency-Key makes Zendesk answer
        # with the ticket it already made, not a new one.
        result = super().forward(ticket, delivery)
        note = {k: v for k, v in ticket.info.items() if k not in self.info_fields}
        if note:
            self.request(
                "PUT",
                f"{self.base_url}/api/v2/tickets/{result.external_id}.json",
                json={
                    "ticket": {
                        "comment": {
                            "body": "Context sent with the ticket:\n\n"
                            + json.dumps(note, indent=2, ensure_ascii=False),
                            "public": False,
                        }
                    }
                },
            )
        return result

    def build_payload(self, ticket: Ticket, delivery: Delivery) -> dict:
        requester = {"name": ticket.requester_name, "email": ticket.requester_email}
        if ticket.account_id:
            requester["external_id"] = str(ticket.account_id)
        payload = {
            "subject": ticket.subject,
            "comment": {"body": ticket.description},
            "requester": requester,
            "tags": ticket.tags,
            "external_id": str(ticket.pk),
        }
        custom = [
            {"id": field_id, "value": ticket.info[key]}
            for key, field_id in self.info_fields.items()
            if key in ticket.info
        ]
        if custom:
            payload["custom_fields"] = custom
        return {"ticket": payload}

    def send(self, payload: dict, ticket: Ticket, delivery: Delivery) -> requests.Response:
        return self.request(
            "POST",
            f"{self.base_url}/api/v2/tickets.json",
            json=payload,
            headers={"Idempotency-Key": f"support-ticket-{ticket.pk}"},
        )

    def parse_response(self, response: requests.Response, ticket: Ticket) -> ForwardResult:
        try:
            external_id = str(response.json()["ticket"]["id"])
        except (ValueError, KeyError, TypeError) as err:
            raise DeliveryError(f"Zendesk answered without a ticket id: {err}") from err
        return ForwardResult(external_id, f"{self.base_url}/agent/tickets/{external_id}")
