"""API errors, declared once, and the handler that renders every error in the contract's
shape: {"event": "error", "id": <query id or null>, "error": "...", "fields": {...}}."""

import logging

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import UnreadablePostError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..exceptions import (
    AccountNotAllowed,
    ApiKeyGone,
    AttachmentsRefused,
    IdempotencyConflict,
    RequestRefused,
    TicketInvalid,
)
from ..storable import storage_problem

logger = logging.getLogger(__name__)


class BodyRefused(exceptions.APIException):
    """The body could not be read as sent (support.bodies): 400, 411, 413 or 415."""

    default_detail = _("The request body could not be read.")
    default_code = "body_refused"

    def __init__(self, detail=None, status_code: int = status.HTTP_400_BAD_REQUEST):
        super().__init__(detail)
        self.status_code = status_code


class MalformedRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The request is malformed.")
    default_code = "malformed"


class TooManyFields(MalformedRequest):
    default_detail = _("The request has too many fields.")
    default_code = "too_many_fields"


class FilesRefused(exceptions.ValidationError):
    """Files refused (support.exceptions.AttachmentsRefused): 413 past a limit of size or
    number, else 400; `fields` names each file under the part it came in."""

    def __init__(self, detail, status_code: int):
        super().__init__(detail)
        self.status_code = status_code


class AccountForbidden(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("This API key may only act for its own account.")
    default_code = "account_forbidden"


class IdConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("A different ticket already has this id: send a new id for a new ticket.")
    default_code = "id_conflict"


class UnknownCall(exceptions.NotFound):
    default_detail = _("There is no such API call.")


MAX_ECHOED_ID = 128  # longer query ids are refused (serializers), never echoed


def exception_handler(exc: Exception, context: dict) -> Response:
    """Render any exception raised in an API view as a JSON error; never an HTML page."""
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unexpected error in the support API", exc_info=exc)
        response = Response(status=status.HTTP_500_INTERNAL_SERVER_ERROR)
        detail = _("Something went wrong on our side; the error has been logged.")
    else:
        detail = response.data
    body = {"event": "error", "id": _query_id(context.get("request"), exc)}
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        fields = {str(name): _messages(value) for name, value in detail.items()}
        body["error"] = " ".join(
            f"{name}: {messages[0]}" for name, messages in fields.items() if messages
        )
        body["fields"] = fields
    elif isinstance(detail, dict) and "detail" in detail:
        body["error"] = str(detail["detail"])
    else:
        body["error"] = " ".join(_messages(detail))
    response.data = body
    return response


def _as_api_exception(exc: Exception) -> Exception:
    """The API error for an error of the domain, or of Django reading what a client sent."""
    if isinstance(exc, TicketInvalid):
        return exceptions.ValidationError(exc.errors)
    if isinstance(exc, AttachmentsRefused):
        return FilesRefused(exc.errors, exc.status)
    if isinstance(exc, AccountNotAllowed):
        return AccountForbidden()
    if isinstance(exc, IdempotencyConflict):
        return IdConflict()
    if isinstance(exc, ApiKeyGone):
        refused = exceptions.AuthenticationFailed(_("No account found. Is your API key wrong?"))
        refused.auth_header = 'Basic realm="api"'  # as support.api.authentication asks
        return refused
    if isinstance(exc, RequestRefused):
        return BodyRefused(exc.message, exc.status)
    if isinstance(exc, RequestDataTooBig):
        return BodyRefused(_("The request is too large."), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, UnreadablePostError):
        return BodyRefused(_("The request was cut off. Please send it again."))
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return TooManyFields()
    if isinstance(exc, SuspiciousOperation | BadRequest):
        return MalformedRequest()
    return exc


def _messages(detail) -> list[str]:
    """Flatten DRF's nested error details (lists, and dicts for list items) to strings."""
    if isinstance(detail, dict):
        return [f"{key}: {m}" for key, value in detail.items() for m in _messages(value)]
    if isinstance(detail, list | tuple):
        return [m for item in detail for m in _messages(item)]
    return [str(detail)]


def _query_id(request, exc: Exception) -> str | None:
    """The `id` the client sent, to echo in the error, when it can be read safely."""
    if request is None or isinstance(
        exc,
        BodyRefused | MalformedRequest | exceptions.ParseError | exceptions.UnsupportedMediaType,
    ):
        return None  # the body was not read, or cannot be
    try:
        source = getattr(request, "support_fields", None)  # a multipart body's ticket part
        if source is None:
            source = request.query_params if request.method == "GET" else request.data
        value = source.get("id") if hasattr(source, "get") else None
    except Exception:  # noqa: BLE001  (an unreadable body is the error being reported)
        return None
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = str(value)
        # Only what could be stored can be echoed (a lone surrogate cannot even be sent).
        if len(value) <= MAX_ECHOED_ID and storage_problem(value) is None:
            return value
    return None
