"""Who is asking, and from where: the logged-in person's identity and the browser's facts.

`form_user(request)` calls the function SUPPORT["FORM_USER"] names; `django_user` is the
default, for Django's user model. `signed_identity(token)` reads who is logged in to the
platform that shows the widget, as the platform signed it. `client_info()` builds the
ticket's `info` from what the browser told the form.
"""

import logging
import re
import uuid
from typing import Any, TypedDict

import jwt
from django.http import HttpRequest
from django.utils.module_loading import import_string

from . import normalise
from .conf import get_setting
from .exceptions import TicketInvalid

logger = logging.getLogger(__name__)


class Identity(TypedDict):
    email: str
    name: str
    account_id: uuid.UUID | str | None


def form_user(request: HttpRequest) -> Identity | None:
    """The logged-in requester, as SUPPORT["FORM_USER"] reports them, or None.

    An identity without an e-mail address counts as anonymous: the form must ask for one.
    So does one that the API would refuse as a request's e-mail address, name or account
    (support.normalise.identity), with a WARNING saying why: the form could not file with
    it, and the person could not correct what the form does not show.
    """
    path = get_setting("FORM_USER")
    if not path:
        return None
    found = import_string(path)(request)
    if not found or not found.get("email"):
        return None
    return checked(found.get("email"), found.get("name"), found.get("account_id"), path)


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


def signed_identity(token: str | None) -> Identity | None:
    """The person the platform vouches for, or None.

    The platform (which knows who is logged in there, the desk does not) signs a JSON Web
    Token with SUPPORT["IDENTITY_SECRET"], HS256, holding `email`, optionally `name` and
    `account_id`, and an `exp` (required): every platform has a JWT library for this. A
    token that is missing, forged, expired, without an e-mail address or with a claim the
    API would refuse (an e-mail address that is blank or invalid, a name too long, an
    account that is not a UUID, text no database stores) counts for nothing: the form
    then asks, as it asks anyone.
    """
    secret = get_setting("IDENTITY_SECRET")
    if not token or not secret:
        return None
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp"]}, leeway=30
        )
    except jwt.InvalidTokenError as err:
        # For the platform's developers: the person just sees the usual form.
        logger.warning("Identity token refused: %s", err)
        return None
    email, name, account_id = (claims.get(k) for k in ("email", "name", "account_id"))
    if email is None:
        logger.warning("Identity token refused: no e-mail address in it")
        return None
    return checked(email, name, account_id, "Identity token")


def checked(email: Any, name: Any, account_id: Any, source: str) -> Identity | None:
    """The identity `source` vouches for, with its claims checked and normalised as the
    API checks a request's (support.normalise.identity); None, logged at WARNING with
    what is wrong (never the values), if any claim would be refused."""
    try:
        email, name, account_id = normalise.identity(email, name, account_id)
    except TicketInvalid as err:
        logger.warning("%s refused: %s", source, err)
        return None
    return {"email": email, "name": name, "account_id": account_id}


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
    # A header is bytes read as Latin-1: anything but a NUL can be stored.
    user_agent = user_agent.replace("\x00", "")[:MAX_USER_AGENT]
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
