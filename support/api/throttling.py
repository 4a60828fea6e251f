"""The API's rate limits, as DRF throttles over support.ratelimit's counters."""

from rest_framework.throttling import BaseThrottle

from .. import clients, ratelimit


class _Throttle(BaseThrottle):
    setting = ""

    def thing(self, request) -> tuple | None:
        """What is counted for `request` (None: nothing)."""
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        self.retry_after = None
        thing = self.thing(request)
        if thing is None:
            return True
        try:
            ratelimit.hit(self.setting, *thing)
        except ratelimit.RateLimited as limited:
            self.retry_after = limited.retry_after
            return False
        return True

    def wait(self) -> int | None:
        return self.retry_after


class ApiKeyRateThrottle(_Throttle):
    """SUPPORT["API_RATE"] per API key, counted by the key's hash (unique to the key, where
    its row number is not: another desk's key number 1 is another key)."""

    setting = "API_RATE"

    def thing(self, request) -> tuple | None:
        return None if request.auth is None else (request.auth.hashed_key,)


class ClientRateThrottle(_Throttle):
    """SUPPORT["CLIENT_RATE"] per client (support.clients), for what the API answers
    without a valid key: the schema, the docs, unknown calls, refused keys."""

    setting = "CLIENT_RATE"

    def thing(self, request) -> tuple:
        return (clients.client_key(request),)
