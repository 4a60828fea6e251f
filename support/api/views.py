"""The CoCalc-compatible calls. Each view turns HTTP into one call of support.tickets."""

import uuid

from drf_spectacular.utils import OpenApiRequest, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import attachments, bodies, tickets
from ..conf import public_url
from ..exceptions import AttachmentsRefused
from ..models import Ticket
from ..normalise import TicketRequest
from ..text import is_blank
from ..uploads import refusals as uploads_refused
from .authentication import ApiKeyAuthentication, HasApiKey
from .exceptions import UnknownCall, exception_handler
from .parsers import JSONParser
from .renderers import JSONRenderer
from .serializers import (
    CreateTicketFormSerializer,
    CreateTicketMultipartSerializer,
    CreateTicketSerializer,
    ErrorSerializer,
    ListTicketsSerializer,
    TicketListSerializer,
    TicketSerializer,
    TicketUrlSerializer,
    ticket_fields,
)
from .throttling import ApiKeyRateThrottle, ClientRateThrottle

ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in [
        (400, "Invalid request: `fields` says what is wrong with each field."),
        (401, "Missing, malformed, unknown or revoked API key."),
        (403, "The key may not act for that account."),
        (411, "A body without Content-Length, on a server that cannot read one (development)."),
        (413, "The request body is over the size limit."),
        (
            415,
            "The body is not JSON, a form or multipart, not in UTF-8, or not what its type says.",
        ),
        (429, "Over the key's rate limit: retry after `Retry-After` seconds."),
    ]
}


class AlwaysJson(DefaultContentNegotiation):
    """Every answer is JSON, whatever the client's Accept header says."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class SupportApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    renderer_classes = [JSONRenderer]
    throttle_classes = [ApiKeyRateThrottle]
    content_negotiation_class = AlwaysJson

    def get_exception_handler(self):
        return exception_handler

    #: Whether the call takes files (a multipart body with attachments, support.bodies).
    takes_files = False

    def initial(self, request, *args, **kwargs):
        # The key and the throttles first (none of them reads the body), so that a body
        # refused is counted as any request is; then, before anything reads the body: an
        # oversized one is never read, a chunked one is read whole (DRF's request wraps
        # Django's, whose body this is).
        super().initial(request, *args, **kwargs)
        bodies.prepare(request._request, files=self.takes_files)

    def perform_authentication(self, request):
        # A request without a valid key is anonymous work (a hash, a lookup): counted per
        # client, so that nobody can try keys, or fail, without limit.
        try:
            super().perform_authentication(request)
        except (exceptions.AuthenticationFailed, exceptions.NotAuthenticated):
            throttle = ClientRateThrottle()
            if not throttle.allow_request(request, self):
                self.throttled(request, throttle.wait())
            raise


class CreateSupportTicket(SupportApiView):
    takes_files = True

    @extend_schema(
        operation_id="create_support_ticket",
        request={
            "application/json": CreateTicketSerializer,
            "application/x-www-form-urlencoded": CreateTicketFormSerializer,
            "multipart/form-data": OpenApiRequest(
                CreateTicketMultipartSerializer,
                encoding={
                    "ticket": {"contentType": "application/json"},
                    "attachments": {"contentType": "application/octet-stream"},
                },
            ),
        },
        responses={
            200: TicketUrlSerializer,
            409: OpenApiResponse(ErrorSerializer, description="This id names another ticket."),
            **ERRORS,
        },
        description="File a support ticket. Retrying with the same `id` and content "
        "(files included) returns the same ticket; an `id` already used for other "
        "content is a 409.\n\nWith files (an extension of the original call): a "
        "`multipart/form-data` body whose part `ticket` is the ticket's fields as one JSON "
        "object (as the JSON body takes them, so `tags` and `info` keep their types) and "
        "whose parts `attachments` are the files, each with its file name. The JSON is "
        "held to the body limit (1 MiB by default); files to "
        "`SUPPORT_ATTACHMENT_MAX_BYTES` each, `SUPPORT_ATTACHMENT_MAX_FILES` and "
        "`SUPPORT_ATTACHMENT_MAX_TOTAL_BYTES` in all (413 naming the file) and to the "
        "accepted types, read from their content (400 naming the file). A multipart body "
        "without a `ticket` part carries the fields as form fields, as the original did.",
    )
    def post(self, request):
        fields, files = ticket_fields(request)
        request.support_fields = fields  # the id to echo in an error
        uploads, refusals = attachments.check(files, refused=uploads_refused(request._request))
        if refusals:
            raise AttachmentsRefused(refusals)
        filed = tickets.file_ticket(
            TicketRequest(**fields),
            channel=Ticket.Channel.API,
            api_key=request.auth,
            attachments=uploads,
        )
        return Response(
            {
                "event": "support_ticket_url",
                "id": str(filed.ticket.pk),
                "url": public_url(filed.ticket.requester_path(), request),
            }
        )


class GetSupportTickets(SupportApiView):
    @extend_schema(
        operation_id="get_support_tickets",
        request=ListTicketsSerializer,
        responses={200: TicketListSerializer, **ERRORS},
        description="List an account's tickets, most recently changed first.",
    )
    def post(self, request):
        return self._list(request, request.data)

    @extend_schema(
        operation_id="get_support_tickets_get",
        parameters=[ListTicketsSerializer],
        responses={200: TicketListSerializer, **ERRORS},
        description="The same as POST, with the parameters in the query string.",
    )
    def get(self, request):
        return self._list(request, request.query_params)

    def _list(self, request, data):
        serializer = ListTicketsSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        account_id = tickets.resolve_listed_account(params.get("account_id"), request.auth)
        page, has_more = tickets.list_tickets(
            account_id=account_id,
            limit=params["limit"],
            starting_after=params.get("starting_after"),
        )
        return Response(
            {
                "event": "support_tickets",
                # As CoCalc's original: a query without an id gets one.
                "id": str(uuid.uuid4()) if is_blank(params.get("id") or "") else params["id"],
                "has_more": has_more,
                "tickets": TicketSerializer(page, many=True, context={"request": request}).data,
            }
        )


class UnknownCallView(APIView):
    """Any other path under the API answers with a JSON 404, not an HTML page."""

    authentication_classes = []
    permission_classes = []
    renderer_classes = [JSONRenderer]
    throttle_classes = [ClientRateThrottle]
    content_negotiation_class = AlwaysJson
    schema = None

    def get_exception_handler(self):
        return exception_handler

    def initial(self, request, *args, **kwargs):
        self.check_throttles(request)
        raise UnknownCall()
