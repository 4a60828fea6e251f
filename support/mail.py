"""The e-mail a ticket causes, through Django's mail framework and overridable templates.

Templates (override any in your project): support/email/<kind>_subject.txt, <kind>.txt and
<kind>.html, where kind is `confirmation` (to the requester) or `staff_notification`.

Every message about a ticket belongs to one thread: the confirmation's Message-ID is the
thread's root, and later messages refer to it (In-Reply-To, References), so that mail
clients show them together. Message-IDs are fixed per delivery, so a message sent twice
(a worker that died after sending, before recording it) is recognised as the same one.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string

from .conf import get_setting, public_url, site_url
from .models import Delivery, Ticket
from .rendering import render_text


def message_id(ticket: Ticket, part: str = "") -> str:
    domain = urlsplit(get_setting("PUBLIC_URL") or "").hostname or str(DNS_NAME)
    return f"<ticket-{ticket.pk}{'.' + part if part else ''}@{domain}>"


def send_delivery_mail(delivery: Delivery) -> None:
    """Send the e-mail `delivery` stands for. Raises what the mail backend raises."""
    ticket = delivery.ticket
    if delivery.kind == Delivery.Kind.CONFIRMATION:
        recipients = [ticket.requester_email]
        headers = {"Message-ID": message_id(ticket)}
    else:
        recipients = list(get_setting("STAFF_EMAILS"))
        # Staff get their own thread about the ticket.
        headers = {"Message-ID": message_id(ticket, "staff")}
    context = {
        "ticket": ticket,
        "ticket_url": public_url(ticket.get_absolute_url()),
        "description_html": render_text(ticket.description),
        "site_url": site_url(),
    }
    kind = delivery.kind
    subject = " ".join(render_to_string(f"support/email/{kind}_subject.txt", context).split())
    reply_to = get_setting("REPLY_TO")
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"support/email/{kind}.txt", context),
        from_email=get_setting("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
    )
    message.attach_alternative(render_to_string(f"support/email/{kind}.html", context), "text/html")
    message.send(fail_silently=False)
