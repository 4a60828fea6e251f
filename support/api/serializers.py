"""The wire format: what the API takes and returns. Rules about tickets live in
support.tickets; these only turn HTTP bodies into typed values and back."""

import datetime
import json

from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from .. import attachments
from ..conf import public_url
from ..models import Ticket
from ..normalise import MAX_EMAIL, MAX_LOCATION, MAX_NAME, MAX_SUBJECT, MAX_TAG, MAX_TAGS
from ..storable import storage_problem
from ..tickets import MAX_PAGE_SIZE, PAGE_SIZE, TicketRequest
from ..uploads import TICKET_PART
from .exceptions import MAX_ECHOED_ID
from .parsers import parse_int

FILES = "attachments"  # the parts of a multipart body that carry files


def wire_fields(data, allowed, json_only=()) -> dict:
    """The fields of a request body or query as a dict. Refuses fields not in `allowed`,
    fields in `json_only` sent in a form body, and form fields given more than once."""
    if not hasattr(data, "keys"):
        raise serializers.ValidationError(
            {"non_field_errors": [_("Send the fields as a JSON object or a form.")]}
        )
    errors = {name: [_("Unknown field.")] for name in sorted(set(data.keys()) - set(allowed))}
    if isinstance(data, QueryDict):
        for name in data:
            if name in json_only:
                errors[name] = [_("Send %s as JSON (Content-Type: application/json).") % name]
            elif len(data.getlist(name)) > 1:
                errors[name] = [_("Given more than once.")]
        data = data.dict()
    if errors:
        raise serializers.ValidationError(errors)
    return data


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, and JSON-only fields sent in a form body."""

    json_only_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):
        return super().to_internal_value(wire_fields(data, self.fields, self.json_only_fields))


class QueryIdField(serializers.CharField):
    """A query id, echoed back: text (or a number, as text) that could be stored, so that
    the answer can carry it."""

    def to_internal_value(self, data):
        if isinstance(data, str | float) and (problem := storage_problem(data)):
            raise serializers.ValidationError(problem)
        return super().to_internal_value(data)


class NonBlankCharField(serializers.CharField):
    """Text that must show something: more than white space (the schema says so with a
    pattern) or other characters that show nothing (support.text)."""


class CreateTicketSerializer(serializers.Serializer):
    """Describes the request in the OpenAPI schema. Requests are checked by
    support.normalise, which the form shares; tests/test_fuzz.py holds the two together."""

    json_only_fields = ("tags", "info")

    id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Names this request and the ticket; "
        "a retry with the same id and content returns the same ticket.",
    )
    username = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=MAX_NAME,
        help_text="Name on the ticket; blank means the e-mail address.",
    )
    email_address = serializers.EmailField(max_length=MAX_EMAIL)
    subject = NonBlankCharField(max_length=MAX_SUBJECT, help_text="One line.")
    body = NonBlankCharField(trim_whitespace=False, help_text="Markdown or HTML.")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=MAX_TAG, allow_blank=True),
        required=False,
        allow_null=True,
        max_length=MAX_TAGS,
    )
    account_id = serializers.UUIDField(required=False, allow_null=True)
    location = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=MAX_LOCATION,
        help_text="A path on the site, e.g. /projects/<uuid>/files/notebook.ipynb.",
    )
    info = serializers.DictField(
        required=False, allow_null=True,
        help_text="Browser, OS, ...; `course` (a project UUID) adds the course's URL.",
    )  # fmt: skip


class CreateTicketFormSerializer(CreateTicketSerializer):
    """What a form body may carry: everything but the JSON-only fields (for the schema)."""

    tags = None
    info = None


@extend_schema_field({"type": "string", "format": "binary"})
class UploadField(serializers.FileField):
    """A file part of a multipart body (for the schema: binary, not a URL)."""


class CreateTicketMultipartSerializer(serializers.Serializer):
    """A multipart body (for the schema): the ticket as one JSON part and its files, or
    (as the original took it) the ticket's fields as form fields and its files."""

    ticket = CreateTicketSerializer(
        required=False,
        help_text="The ticket's fields as one JSON object (Content-Type: application/json), "
        "as the JSON body takes them. Without it the fields come as form fields.",
    )
    attachments = serializers.ListField(
        child=UploadField(),
        required=False,
        help_text="The files, each with its file name; their types are read from their content.",
    )


def ticket_fields(request) -> tuple[dict, list]:
    """The fields of a create request (a dict, as `wire_fields` returns them) and its files.

    A multipart body carries its files as parts `attachments`, and the ticket either as a
    JSON part `ticket` (a form field, or a file part) or as form fields. Refuses other
    parts, a `ticket` part beside form fields, and a `ticket` that is not a JSON object.
    Raises ValidationError, or ParseError for JSON that cannot be read."""
    allowed, json_only = TicketRequest.field_names(), CreateTicketSerializer.json_only_fields
    if not (request.content_type or "").startswith("multipart/form-data"):
        return wire_fields(request.data, allowed, json_only), []
    posted, files = request.POST, request.FILES
    errors = {name: [_("Unknown field.")] for name in files if name not in (FILES, TICKET_PART)}
    if files and not attachments.enabled():
        errors[FILES] = [_("This desk takes no files.")]
    if errors:
        raise serializers.ValidationError(errors)
    if TICKET_PART not in posted and TICKET_PART not in files:
        return wire_fields(posted, allowed, json_only), files.getlist(FILES)
    others = sorted(name for name in posted if name != TICKET_PART)
    if others or len(posted.getlist(TICKET_PART)) + len(files.getlist(TICKET_PART)) > 1:
        raise serializers.ValidationError(
            {
                name: [_("Send the ticket's fields in the `ticket` part only.")]
                for name in (others or [TICKET_PART])
            }
        )
    if TICKET_PART in files:
        raw = files[TICKET_PART].read()
    else:
        raw = posted[TICKET_PART].encode("utf-8", "surrogatepass")
    try:
        data = json.loads(raw.decode("utf-8"), parse_int=parse_int)
    except RecursionError:
        raise ParseError(_("ticket: JSON parse error - nested too deeply.")) from None
    except ValueError as err:
        raise ParseError(_("ticket: JSON parse error - %s") % err) from None
    if not isinstance(data, dict):
        raise serializers.ValidationError({TICKET_PART: [_("Send the ticket as a JSON object.")]})
    return wire_fields(data, allowed, json_only), files.getlist(FILES)


class ListTicketsSerializer(StrictSerializer):
    id = QueryIdField(
        required=False, allow_null=True, allow_blank=True, max_length=MAX_ECHOED_ID,
        help_text="Query id, echoed back; when absent or blank the answer carries a new UUID.",
    )  # fmt: skip
    account_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Required with a service key."
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=PAGE_SIZE
    )
    starting_after = serializers.UUIDField(
        required=False, allow_null=True, help_text="The last ticket id of the previous page."
    )


class TicketUrlSerializer(serializers.Serializer):
    event = serializers.CharField(default="support_ticket_url")
    id = serializers.UUIDField()
    url = serializers.URLField(help_text="The requester's private page for the ticket.")


class UtcDateTimeField(serializers.DateTimeField):
    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M:%SZ", default_timezone=datetime.UTC, **kwargs)


class TicketSerializer(serializers.ModelSerializer):
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = ["id", "subject", "description", "created_at", "updated_at", "status", "url"]

    def get_url(self, ticket: Ticket) -> str:
        return public_url(ticket.requester_path(), self.context["request"])


class TicketListSerializer(serializers.Serializer):
    event = serializers.CharField(default="support_tickets")
    id = serializers.CharField(help_text="The query id sent, or a new UUID.")
    has_more = serializers.BooleanField()
    tickets = TicketSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    event = serializers.CharField(default="error")
    id = serializers.CharField(allow_null=True)
    error = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
