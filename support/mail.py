"""The e-mail a ticket causes, through Django's mail framework and overridable templates.

Templates (override any in your project): support/email/<kind>_subject.txt, <kind>.txt and
<kind>.html, where kind is `confirmation` or `reply` (to the requester), `staff_notification`
or `requester_reply` (to staff). The subject and the .txt part are text, rendered without
HTML escaping; the .html part is HTML, escaped as usual.

Every message about a ticket belongs to one thread: the confirmation's Message-ID is the
thread's root, and later messages refer to it (In-Reply-To, References), so that mail
clients show them together. Message-IDs are fixed per delivery, so a message sent twice
(a worker that died after sending, before recording it) is recognised as the same one.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Template
from django.template.loader import get_template, render_to_string
from django.urls import NoReverseMatch, reverse

from . import links
from .conf import get_setting, public_host, public_url, site_url
from .filestore import storage
from .models import Attachment, Delivery, Ticket
from .rendering import render_text


def message_id(ticket: Ticket, part: str = "") -> str:
    """The Message-ID of a message about `ticket`, in the desk's own domain (PUBLIC_URL's
    host, not the worker machine's name, which may change from one send to the next)."""
    return f"<ticket-{ticket.pk}{'.' + part if part else ''}@{public_host()}>"


def send_delivery_mail(delivery: Delivery) -> None:
    """Send the e-mail `delivery` stands for. Raises what the mail backend raises."""
    ticket = delivery.ticket
    to_requester = delivery.kind in (Delivery.Kind.CONFIRMATION, Delivery.Kind.REPLY)
    if to_requester:
        recipients = [ticket.requester_email]
        thread = message_id(ticket)
    else:
        recipients = list(get_setting("STAFF_EMAILS"))
        # Staff get their own thread about the ticket.
        thread = message_id(ticket, "staff")
    if delivery.message_id is None:
        headers = {"Message-ID": thread}
    else:
        part = f"msg-{delivery.message_id}" if to_requester else f"staff.msg-{delivery.message_id}"
        headers = {"Message-ID": message_id(ticket, part), "In-Reply-To": thread,
                   "References": thread}  # fmt: skip
    message = delivery.message
    if message is None and delivery.kind in FIRST_MESSAGE_KINDS:
        message = ticket.first_message  # the request, whose files go with it
    files = list(message.attachments.all()) if message is not None else []
    context = {
        "ticket": ticket,
        "ticket_url": public_url(ticket.requester_path()),
        "staff_url": None if to_requester else _admin_url(ticket),
        "description_html": links.description_html(ticket),
        "message": delivery.message,
        "message_html": render_text(delivery.message.body) if delivery.message else "",
        "site_url": site_url(),
    }
    attached = _attached(files)
    context["attachments"] = [
        {
            "name": file.name, "size": file.size, "attached": file in attached,
            "url": _file_url(ticket, file, to_requester),
        }
        for file in files
    ]  # fmt: skip
    kind = delivery.kind
    subject = " ".join(render_text_template(f"support/email/{kind}_subject.txt", context).split())
    reply_to = get_setting("REPLY_TO")
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_text_template(f"support/email/{kind}.txt", context),
        from_email=get_setting("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
    )
    email.attach_alternative(render_to_string(f"support/email/{kind}.html", context), "text/html")
    for file in attached:
        with storage().open(file.path, "rb") as content:
            email.attach(file.name, content.read(), file.content_type)
    email.send(fail_silently=False)


# The deliveries that carry the request that opened the ticket (they have no message).
FIRST_MESSAGE_KINDS = (Delivery.Kind.CONFIRMATION, Delivery.Kind.STAFF_NOTIFICATION)


def _attached(files: list[Attachment]) -> list[Attachment]:
    """The files that go in the e-mail itself, in order, up to ATTACHMENT_EMAIL_MAX_BYTES
    in all (a mail server refuses large messages); the others are linked."""
    budget, attached = get_setting("ATTACHMENT_EMAIL_MAX_BYTES"), []
    for file in files:
        if file.size <= budget:
            attached.append(file)
            budget -= file.size
    return attached


def _file_url(ticket: Ticket, file: Attachment, to_requester: bool) -> str:
    """Where the reader of the e-mail opens `file`: the requester through the ticket's
    private link, staff in the admin (or, without the admin, through that link too)."""
    if not to_requester:
        try:
            return public_url(reverse("admin:support_ticket_file", args=[ticket.pk, file.pk]))
        except NoReverseMatch:
            pass
    return public_url(
        reverse("support:ticket-file", kwargs={"pk": ticket.pk, "key": ticket.access_key,
                                               "file": file.pk})
    )  # fmt: skip


def render_text_template(name: str, context: dict) -> str:
    """Render the template `name` as text (a subject, a plain-text part): nothing is
    HTML-escaped, whatever the template says, so that a project's own override of it is
    text too. Raises TemplateDoesNotExist (and what rendering raises)."""
    template = get_template(name)
    if isinstance(getattr(template, "template", None), Template):  # Django's own engine
        return template.template.render(Context(context, autoescape=False))
    return template.render(context)  # another engine: as that engine is configured


def _admin_url(ticket: Ticket) -> str | None:
    """The ticket's page in the admin, if the project has the admin."""
    try:
        return public_url(reverse("admin:support_ticket_change", args=[ticket.pk]))
    except NoReverseMatch:
        return None
