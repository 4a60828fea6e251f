from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from .. import __version__
from ..conf import get_setting
from ..exceptions import DeliveryError
from ..models import Delivery, Ticket

USER_AGENT = f"django-support-desk/{__version__} (+forwarding)"


@dataclass
class ForwardResult:
    """Where the ticket now lives in the other system (either may be empty)."""

    external_id: str = ""
    url: str = ""


class BaseForwardBackend:
    """Owns the flow of a forward: `build_payload` -> `send` -> `parse_response`.

    Subclasses implement those three hooks. Every HTTP call goes through `self.session`
    (a `requests.Session` with our User-Agent) with an explicit timeout.
    """

    #: SUPPORT settings the backend cannot work without (checked at start-up).
    required_settings: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.settings = {name: get_setting(name) for name in self.required_settings}
        self.timeout = get_setting("HTTP_TIMEOUT_SECONDS")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def forward(self, ticket: Ticket, delivery: Delivery) -> ForwardResult:
        """Copy `ticket` to the other system. Raises DeliveryError when it did not get there."""
        payload = self.build_payload(ticket, delivery)
        response = self.send(payload, ticket, delivery)
        return self.parse_response(response, ticket)

    def build_payload(self, ticket: Ticket, delivery: Delivery) -> Any:
        """Return what to send for `ticket` (usually a dict to send as JSON)."""
        raise NotImplementedError

    def send(self, payload: Any, ticket: Ticket, delivery: Delivery) -> requests.Response:
        """Send `payload`; return the response. Raises DeliveryError (see `request`)."""
        raise NotImplementedError

    def parse_response(self, response: requests.Response, ticket: Ticket) -> ForwardResult:
        """Read where the ticket went from a successful response."""
        raise NotImplementedError

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        """One HTTP call. Success is 2xx; otherwise raises DeliveryError, permanent for a
        4xx that retrying cannot fix (not 408, 409 or 429)."""
        # What errors say (logged, and shown to staff) names the server, not the path and
        # query, which hold a secret in many webhook URLs (and requests repeats them).
        parts = urlsplit(url)
        server, secret = f"{parts.scheme}://{parts.hostname}", urlunsplit(("", "", *parts[2:]))
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as err:
            shown = str(err).replace(secret, "/…") if secret.strip("/") else str(err)
            raise DeliveryError(f"{method} {server}/…: {shown}") from err
        if response.ok:
            return response
        retry_after = response.headers.get("Retry-After", "")
        raise DeliveryError(
            f"{method} {server}/…: HTTP {response.status_code} {response.text[:500]}",
            permanent=400 <= response.status_code < 500
            and response.status_code not in (408, 409, 429),
            retry_after=int(retry_after) if retry_after.isdigit() else None,
        )
