from rest_framework.throttling import SimpleRateThrottle

from ..conf import get_setting


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Limit each API key to SUPPORT["API_RATE"], counted in the default cache, which every
    worker process must share (a file or Redis cache, not the per-process locmem one)."""

    scope = "support_api"

    def get_rate(self) -> str | None:
        return get_setting("API_RATE") or None

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
