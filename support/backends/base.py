from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.core.exceptions import ImproperlyConfigured

from .. import __version__
from ..conf import Setting, get_setting
from ..exceptions import DeliveryError

if TYPE_CHECKING:  # the project's settings import backends to read their settings
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

    #: The SUPPORT settings the backend reads, with their defaults: a subclass adds its
    #: own to these. The project's settings read them from the environment like the app's
    #: (SUPPORT_<NAME>), and `manage.py check` names those without a default that are unset.
    declared_settings: tuple[Setting, ...] = (
        Setting("HTTP_TIMEOUT_SECONDS", 10, float,
                "Seconds a forwarding backend waits for the helpdesk to connect and answer."),
    )  # fmt: skip

    def __init__(self) -> None:
        self.timeout = self.setting("HTTP_TIMEOUT_SECONDS")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    @classmethod
    def setting(cls, name: str) -> Any:
        """`SUPPORT[name]`, or its declared default. Raises ImproperlyConfigured for a
        setting without a default that is not set, KeyError for one not declared."""
        declared = {setting.name: setting for setting in cls.declared_settings}
        return get_setting(name, declared[name].default)

    @classmethod
    def missing_settings(cls) -> list[str]:
        """The names of the settings without a default that are not set (for the checks)."""
        missing = []
        for setting in cls.declared_settings:
            try:
                cls.setting(setting.name)
            except ImproperlyConfigured:
                missing.append(setting.name)
        return missing

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
