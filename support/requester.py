"""Who is asking, and from where: the logged-in person's identity and the browser's facts.

`form_user(request)` calls the function SUPPORT["FORM_USER"] names; `django_user` is the
default, for Django's user model. `client_info()` builds the ticket's `info` from what the
browser told the form.
"""

import re
import uuid
from typing import Any, TypedDict

from django.http import HttpRequest
from django.utils.module_loading import import_string

from .conf import get_setting


class Identity(TypedDict):
    email: str
    name: str
    account_id: uuid.UUID | str | None


def form_user(request: HttpRequest) -> Identity | None:
    """The logged-in requester, as SUPPORT["FORM_USER"] reports them, or None.

    An identity without an e-mail address counts as anonymous: the form must ask for one.
    """
    path = get_setting("FORM_USER")
    if not path:
        return None
    identity = import_string(path)(request)
    if not identity or not identity.get("email"):
        return None
    return identity


def django_user(request: HttpRequest) -> Identity | None:
    """The default FORM_USER: e-mail and name of Django's logged-in user.

    The account id is the user's `account_id` attribute when the user model has one (a
    platform whose accounts are UUIDs), else None.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    email = getattr(user, user.get_email_field_name(), "") or ""
    name = (user.get_full_name() if hasattr(user, "get_full_name") else "") or user.get_username()
    return {"email": email, "name": name, "account_id": getattr(user, "account_id", None)}


MAX_USER_AGENT = 512

# Most specific first: Edge and Opera say "Chrome" too, Chrome says "Safari".
_BROWSERS = [
    ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
    ("Opera", r"OPR/(\d+)"),
    ("Samsung Internet", r"SamsungBrowser/(\d+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"),
    ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
    ("Safari", r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/"),
]
_SYSTEMS = [
    ("Windows", r"Windows NT"),
    ("Android", r"Android"),
    ("iOS", r"iPhone|iPad|iPod"),
    ("ChromeOS", r"CrOS"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux|X11"),
]


def client_info(user_agent: str, *, language: str = "", screen: str = "") -> dict[str, Any]:
    """The ticket's `info`: browser and OS (read from the User-Agent by simple rules, enough
    for support to reproduce a problem), mobile or not, language, screen size, user agent."""
    info: dict[str, Any] = {}
    user_agent = user_agent[:MAX_USER_AGENT]
    for name, pattern in _BROWSERS:
        if match := re.search(pattern, user_agent):
            info["browser"] = f"{name} {match.group(1)}"
            break
    for name, pattern in _SYSTEMS:
        if re.search(pattern, user_agent):
            info["os"] = name
            break
    if user_agent:
        info["mobile"] = bool(re.search(r"Mobi|iPhone", user_agent))
        info["user_agent"] = user_agent
    if language:
        info["language"] = language
    if screen:
        info["screen"] = screen
    return info
