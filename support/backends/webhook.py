"""Forward tickets to any HTTP endpoint, as JSON signed with a shared secret.

    SUPPORT = {
        "FORWARD_BACKEND": "support.backends.webhook.ForwardBackend",
        "WEBHOOK_URL": "https://example.com/hooks/support",
        "WEBHOOK_SECRET": "a long random string shared with the receiver",
    }

Each request is a POST of JSON, `{"event": "ticket.created", "delivery": ..., "ticket": {...}}`,
with these headers:

- `X-Support-Timestamp`: Unix time of sending, in seconds;
- `X-Support-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the secret, of the
  timestamp, a dot, and the raw body: `hmac(secret, f"{timestamp}.".encode() + body)`;
- `X-Support-Delivery`: the delivery's id, the same on every retry: a receiver that keeps
  the ids it has seen handles each delivery once.

The ticket's `attachments` list the request's files (id, name, content_type, size,
sha256) with a `url` to fetch each: a signed link that works without any other credential
for SUPPORT["ATTACHMENT_LINK_SECONDS"] (a week by default) from when the delivery was
sent; a retry sends fresh links.

A receiver verifies the signature with a constant-time comparison and refuses timestamps
more than a few minutes old (replays). Any 2xx answer counts as received; a 4xx other than
408, 409 and 429 is not retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING

import requests

from ..conf import REQUIRED, Setting, public_url
from .base import BaseForwardBackend, ForwardResult

if TYPE_CHECKING:
    from ..models import Delivery, Ticket


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-Support-Signature for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class ForwardBackend(BaseForwardBackend):
    declared_settings = (
        *BaseForwardBackend.declared_settings,
        Setting("WEBHOOK_URL", REQUIRED, str, "Where the webhook backend POSTs each ticket.",
                "https://example.com/hooks/support"),
        Setting("WEBHOOK_SECRET", REQUIRED, str,
                "The secret the webhook backend signs its requests with (HMAC-SHA256)."),
    )  # fmt: skip

    def build_payload(self, ticket: Ticket, delivery: Delivery) -> bytes:
        from ..downloads import signed_url

        first = ticket.first_message
        files = [
            {
                "id": str(file.pk), "name": file.name, "content_type": file.content_type,
                "size": file.size, "sha256": file.sha256, "url": signed_url(file),
            }
            for file in (first.attachments.all() if first is not None else [])
        ]  # fmt: skip
        document = {
            "event": "ticket.created",
            "delivery": delivery.pk,
            "ticket": {
                "id": str(ticket.pk),
                "subject": ticket.subject,
                "description": ticket.description,
                "requester": {"name": ticket.requester_name, "email": ticket.requester_email},
                "account_id": str(ticket.account_id) if ticket.account_id else None,
                "tags": ticket.tags,
                "location": ticket.location,
                "info": ticket.info,
                "status": ticket.status,
                "channel": ticket.channel,
                "created_at": ticket.created_at.isoformat(),
                "url": public_url(ticket.requester_path()),
                "attachments": files,
            },
        }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

    def send(self, payload: bytes, ticket: Ticket, delivery: Delivery) -> requests.Response:
        timestamp = str(int(time.time()))
        return self.request(
            "POST",
            self.setting("WEBHOOK_URL"),
            data=payload,
            headers={
                "Content-Type": "application/json",
                "X-Support-Timestamp": timestamp,
                "X-Support-Signature": signature(
                    self.setting("WEBHOOK_SECRET"), timestamp, payload
                ),
                "X-Support-Delivery": str(delivery.pk),
            },
        )

    def parse_response(self, response: requests.Response, ticket: Ticket) -> ForwardResult:
        return ForwardResult()
