"""Errors of the support domain. Entry points translate them (the API into JSON errors).

Configuration problems raise django's ImproperlyConfigured instead, deliberately outside
this hierarchy, so that no handler of these errors can swallow a misconfiguration.
"""


class SupportError(Exception):
    """Base of every error the support domain raises on purpose."""


class TicketInvalid(SupportError):
    """The request cannot become a ticket. `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items()))


class AttachmentsRefused(SupportError):
    """Files that cannot be attached. `refusals` (support.uploads.Refusal) name each file
    and why; `status` is 413 when a limit of size or number refused one, else 400."""

    def __init__(self, refusals: list):
        self.refusals = refusals
        self.status = 413 if any(refusal.status == 413 for refusal in refusals) else 400
        super().__init__(" ".join(refusal.message for refusal in refusals))

    @property
    def errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for refusal in self.refusals:
            errors.setdefault(refusal.field, []).append(refusal.message)
        return errors


class AccountNotAllowed(SupportError):
    """The caller may not act for the account it named."""


class ApiKeyGone(SupportError):
    """The API key the caller authenticated with is no longer stored (deleted in SQL while
    a copy of it was in the cache): nothing can be filed under it."""


class IdempotencyConflict(SupportError):
    """A ticket with this id exists, with other content or for another account."""


class DeliveryError(SupportError):
    """A delivery (e-mail, forward) did not get through. Recorded on the delivery, which is
    retried later unless `permanent` (retrying cannot help, e.g. the helpdesk refused the
    content). `retry_after` is how long the other side asked us to wait, in seconds."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class TicketClosed(SupportError):
    """The ticket is closed: nothing more may be added to it (file a new one instead)."""


class RequestRefused(SupportError):
    """The request's body cannot be read as sent (too large, no length this server can
    work with, an encoding that is not UTF-8, cut off). `status` is the HTTP status to
    answer with: 400, 411, 413 or 415."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.message = message
        self.status = status
