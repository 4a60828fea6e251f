"""API keys in the `Authorization` header: `Basic base64("<key>:")` or `Bearer <key>`."""

import base64
import binascii

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import BasePermission

from .. import keys
from ..models import ApiKey


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticate with an API key. `request.auth` is the ApiKey; there is no user."""

    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header:
            raise NotAuthenticated(_("You must provide authentication via an API key."))
        scheme, _sep, credentials = header.partition(b" ")
        scheme = scheme.decode("latin-1")
        if scheme.lower() == "basic":
            raw = self._key_from_basic(credentials.strip())
        elif scheme.lower() == "bearer":
            raw = credentials.strip().decode("latin-1")
        else:
            raise AuthenticationFailed(_("Unknown authorization type '%s'") % scheme[:40])
        key = keys.authenticate(raw) if raw else None
        if key is None:
            raise AuthenticationFailed(_("No account found. Is your API key wrong?"))
        return AnonymousUser(), key

    def authenticate_header(self, request) -> str:
        return 'Basic realm="api"'

    @staticmethod
    def _key_from_basic(credentials: bytes) -> str:
        """The user name of Basic credentials; the password part is ignored."""
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed(
                _("Invalid Basic authorization: send base64 of '<key>:'.")
            ) from None
        return decoded.partition(":")[0].strip()


class HasApiKey(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)
