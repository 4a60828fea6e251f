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

The request's files go first to Zendesk's Uploads API (`POST /api/v2/uploads.json`, one
call per file, streamed from the attachments' storage), and the tokens it answers with
on the ticket's first comment. Each token is kept on the delivery as it comes
(`Delivery.state`), so a retry uploads only what is missing and sends the same create
call again, which the Idempotency-Key then recognises.
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
        self.upload_tokens = self.upload(ticket, delivery)
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
        comment = {"body": ticket.description}
        if getattr(self, "upload_tokens", None):
            comment["uploads"] = self.upload_tokens
        payload = {
            "subject": ticket.subject,
            "comment": comment,
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

    def upload(self, ticket: Ticket, delivery: Delivery) -> list[str]:
        """Upload the files of the ticket's request that are not uploaded yet; return the
        tokens of all of them, in order. Raises DeliveryError."""
        from ..filestore import storage
        from ..models import Delivery

        first = ticket.first_message
        files = list(first.attachments.all()) if first is not None else []
        tokens = dict(delivery.state.get("zendesk_uploads", {}))
        for file in files:
            if str(file.pk) in tokens:
                continue
            with storage().open(file.path, "rb") as content:
                response = self.request(
                    "POST",
                    f"{self.base_url}/api/v2/uploads.json",
                    params={"filename": file.name},
                    data=content,
                    headers={"Content-Type": file.content_type},
                )
            try:
                tokens[str(file.pk)] = str(response.json()["upload"]["token"])
            except (ValueError, KeyError, TypeError) as err:
                raise DeliveryError(f"Zendesk answered an upload without a token: {err}") from err
            delivery.state = {**delivery.state, "zendesk_uploads": tokens}
            Delivery.objects.filter(pk=delivery.pk).update(state=delivery.state)
        return [tokens[str(file.pk)] for file in files]

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
