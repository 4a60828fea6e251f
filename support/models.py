import uuid

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .normalise import MAX_EMAIL, MAX_LOCATION, MAX_NAME, MAX_SUBJECT


class ApiKey(models.Model):
    """A key a script uses to call the API. Only a hash of the secret is stored."""

    class Kind(models.TextChoices):
        ACCOUNT = "account", _("Account key")
        SERVICE = "service", _("Service key")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    account_id = models.UUIDField(
        _("account id"),
        null=True,
        blank=True,
        help_text=_("The account an account key acts for; empty for a service key."),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    prefix = models.CharField(
        _("prefix"), max_length=16, help_text=_("The key's first characters, to tell keys apart.")
    )
    hashed_key = models.CharField(_("hashed key"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account_id", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="account", account_id__isnull=False))
                | Q(kind="service", account_id__isnull=True),
                name="support_apikey_account_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.get_kind_display()})"

    @property
    def is_service(self) -> bool:
        return self.kind == self.Kind.SERVICE

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def may_act_for(self, account_id: uuid.UUID | None) -> bool:
        """Whether this key may file or read tickets of `account_id`."""
        return self.is_service or (account_id is not None and account_id == self.account_id)


# Staff's queue order: what needs work first.
QUEUE_ORDER = ("new", "open", "pending", "solved", "closed")


def status_rank() -> Case:
    """A ticket's place in staff's queue by status (0 = new ... 4 = closed).

    An index covers this exact expression (support_tkt_queue): order and filter by it as
    returned here, or the database cannot use the index.
    """
    return Case(
        *(When(status=status, then=Value(rank)) for rank, status in enumerate(QUEUE_ORDER)),
        default=Value(len(QUEUE_ORDER)),
        output_field=models.IntegerField(),
    )


class Ticket(models.Model):
    """A request for help, and what support needs to answer it."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        SOLVED = "solved", _("Solved")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        API = "api", _("API")
        FORM = "form", _("Web form")

    # How each status reads to the person who asked.
    REQUESTER_STATUS = {
        Status.NEW: _("Received: nobody has answered yet"),
        Status.OPEN: _("In progress: support is working on it"),
        Status.PENDING: _("Awaiting your reply"),
        Status.SOLVED: _("Solved"),
        Status.CLOSED: _("Closed"),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    access_key = models.CharField(
        _("access key"),
        max_length=64,
        editable=False,
        help_text=_("The secret part of the requester's link to this ticket."),
    )
    requester_name = models.CharField(_("requester name"), max_length=MAX_NAME)
    requester_email = models.EmailField(_("requester e-mail"), max_length=MAX_EMAIL)
    subject = models.CharField(_("subject"), max_length=MAX_SUBJECT)
    description = models.TextField(
        _("description"),
        help_text=_(
            "The request's text with the location and course links appended, as the API "
            "lists it and helpdesks receive it; the text itself is the first message."
        ),
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    account_id = models.UUIDField(_("account id"), null=True, blank=True)
    location = models.CharField(
        _("location"), max_length=MAX_LOCATION, blank=True, help_text=_("Path on the site.")
    )
    info = models.JSONField(_("info"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    api_key = models.ForeignKey(
        ApiKey,
        verbose_name=_("API key"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    fingerprint = models.CharField(
        _("fingerprint"),
        max_length=64,
        editable=False,
        help_text=_("Hash of the normalised request, to recognise a retried create."),
    )
    unplanned_deliveries = models.CharField(
        _("deliveries to plan"),
        max_length=200,
        blank=True,
        editable=False,
        help_text=_("Kinds of delivery the ticket causes that a worker has yet to store."),
    )
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        help_text=_("Its id in the helpdesk it was forwarded to."),
    )
    external_url = models.URLField(_("external link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(
        _("updated"),
        default=timezone.now,
        help_text=_("Last change the requester cares about: a message or a status change."),
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-updated_at", "-id"]
        indexes = [
            # Staff's queue: open work first, most recently touched first; also serves a
            # filter on one status, written as a filter on its rank (see status_rank()).
            models.Index(
                status_rank(), F("updated_at").desc(), F("id").desc(), name="support_tkt_queue"
            ),
            # The admin's accounts list walks this to find recently active accounts.
            models.Index(
                F("updated_at").desc(),
                F("id").desc(),
                condition=Q(account_id__isnull=False),
                name="support_tkt_account_activity",
            ),
            models.Index(fields=["account_id", "-updated_at", "-id"], name="support_tkt_account"),
            models.Index(fields=["-created_at"], name="support_tkt_created"),
            models.Index(
                fields=["created_at"],
                condition=~Q(unplanned_deliveries=""),
                name="support_tkt_unplanned",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    def requester_path(self) -> str:
        """The path of the requester's private page for this ticket, its secret included.

        Deliberately not `get_absolute_url`: Django's admin answers "view on site"
        (/admin/r/<content type>/<id>/) for any staff user, whatever their permissions, with
        a redirect to that URL, which would hand the secret to staff outside Support staff.
        """
        return reverse("support:ticket", kwargs={"pk": self.pk, "key": self.access_key})

    @property
    def requester_status(self) -> str:
        return self.REQUESTER_STATUS[self.status]

    @cached_property
    def first_message(self) -> "Message | None":
        """The request that opened the ticket: the first message of its conversation."""
        return self.messages.order_by("created_at", "id").first()

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    def set_status(self, status: str, *, at=None) -> None:
        """Change the status (a change the requester sees) and save this row."""
        self.status = status
        self.updated_at = at or timezone.now()
        self.save(update_fields=["status", "updated_at"])


class Message(models.Model):
    """One message of a ticket's conversation. The first is the request that opened the
    ticket (kind `requester`, written when the ticket was filed), so that its text, files
    and mail sit where every other message's do."""

    class Kind(models.TextChoices):
        REQUESTER = "requester", _("From the requester")
        REPLY = "reply", _("Reply to the requester")
        NOTE = "note", _("Internal note")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The staff member who wrote it; empty for the requester."),
    )
    author_name = models.CharField(
        _("author name"), max_length=MAX_NAME, help_text=_("As shown, kept if the user is deleted.")
    )
    body = models.TextField(_("body"), help_text=_("As written: Markdown or HTML."))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="support_msg_ticket")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.author_name})"


class Delivery(models.Model):
    """One thing that must reach someone because of a ticket (an e-mail, a forward), and
    what happened to it. Stored with the ticket, so that none is lost if a worker dies."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("Confirmation to the requester")
        STAFF_NOTIFICATION = "staff_notification", _("Notification to staff")
        FORWARD = "forward", _("Forward to a helpdesk")
        REPLY = "reply", _("Staff reply to the requester")
        REQUESTER_REPLY = "requester_reply", _("Requester's reply to staff")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="deliveries"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    message = models.ForeignKey(
        Message,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        help_text=_("The message it carries, for replies."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(
        _("claimed until"),
        null=True,
        blank=True,
        help_text=_("A worker is sending it; if that worker dies, another may after this."),
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    state = models.JSONField(
        _("progress"),
        default=dict,
        blank=True,
        help_text=_(
            "What a delivery of several steps has done so far (files uploaded to a "
            "helpdesk), so that a retry goes on from there rather than starting over."
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="support_delivery_due",
            ),
            models.Index(fields=["status", "-created_at"], name="support_delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_status_display()}"


class Attachment(models.Model):
    """A file of a message: stored in the attachments' private storage
    (support.attachments), never at a public URL; served only to whoever may see its
    message (support.downloads).

    A file uploaded with a form that was not sent yet is *pending*: it has no message
    (and, from the help form, no ticket) until the message is stored, and the clean-up
    removes it after ATTACHMENT_PENDING_SECONDS.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    message = models.ForeignKey(
        Message,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    name = models.CharField(
        _("name"), max_length=255, help_text=_("As the sender named it, made safe to show.")
    )
    content_type = models.CharField(
        _("type"), max_length=100, help_text=_("Read from the content, not from the name.")
    )
    size = models.PositiveBigIntegerField(_("size"), help_text=_("In bytes."))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    path = models.CharField(_("path"), max_length=255, editable=False)
    thumbnail_path = models.CharField(_("thumbnail"), max_length=255, blank=True, editable=False)
    width = models.PositiveIntegerField(
        _("width"), null=True, blank=True, help_text=_("Pixels, for an image that was checked.")
    )
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]
        indexes = [
            # The clean-up's list of files whose form was never sent.
            models.Index(
                fields=["created_at"],
                condition=Q(message__isnull=True),
                name="support_attachment_pending",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        """Whether it is a picture that was checked, shown inline and as a thumbnail."""
        return self.width is not None


class Account(Ticket):
    """An account as staff see it: its tickets, keys and activity.

    Accounts live on the platform, not here; this proxy only gives the admin a place for
    its accounts list and pages, and their permission (`support.view_account`).
    """

    class Meta:
        proxy = True
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return str(self.account_id)
