"""Keeping the secrets of requesters' private links out of logs.

A ticket's page is opened by its id and a secret in the path (tickets/<id>/<secret>/, and
the form's new/sent/<id>/<secret>/ and embed/sent/<id>/<secret>/): whoever reads a log
line with one can read and answer the ticket. Django logs the path of every 4xx and 5xx
(django.request, django.security); an access log writes every path.

`redact(text)` hides those secrets; `RedactSecrets` is a logging filter that applies it to
every record (the project's LOGGING puts it on its handler); config/access_log.py does the
same for gunicorn's access log.
"""

import logging
import re

# <id> is a UUID; the secret what secrets.token_urlsafe() makes (support.models).
_PRIVATE_LINK = re.compile(r"(/(?:tickets|sent)/[0-9a-fA-F-]{32,36}/)[A-Za-z0-9_-]+")
HIDDEN = "***"


def redact(text: str) -> str:
    """`text` with the secret of every private ticket link in it replaced by HIDDEN."""
    return _PRIVATE_LINK.sub(rf"\g<1>{HIDDEN}", text)


class RedactSecrets(logging.Filter):
    """A logging filter: the record's message with private links' secrets hidden.

    Use it on a handler: {"filters": {"redact": {"()": "support.logs.RedactSecrets"}}}.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
