"""The desk's own links about a ticket: the page of the site the requester was on, and
their course. Built here only, for the stored description, the pages and the e-mail.

What the requester wrote and what the desk adds are rendered apart (`description_html`):
a body that ends inside a code fence, a list or an HTML tag cannot swallow the links.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.encoding import iri_to_uri
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from .conf import site_url
from .rendering import render_text


@dataclass(frozen=True)
class DeskLink:
    """One link the desk adds: what it is (`label`, for people) and its `url`."""

    label: str
    url: str


def location_url(location: str) -> str:
    """The full URL of `location` (a path on the site, as normalise keeps it), or ""."""
    return f"{site_url()}{iri_to_uri(location)}" if location else ""


def course_id(info: dict[str, Any] | None) -> uuid.UUID | None:
    """The course `info["course"]` names, if it is a UUID (CoCalc's course project)."""
    course = (info or {}).get("course")
    if not isinstance(course, str):
        return None
    try:
        return uuid.UUID(course)
    except ValueError:
        return None


def course_url(info: dict[str, Any] | None) -> str:
    """The course's page on the site, or "" when `info` names no course."""
    course = course_id(info)
    return f"{site_url()}/projects/{course}" if course else ""


def desk_links(location: str, info: dict[str, Any] | None) -> list[DeskLink]:
    """The links the desk adds to a ticket with this `location` and `info`, in order."""
    links = []
    if url := location_url(location):
        links.append(DeskLink(_("Sent from"), url))
    if url := course_url(info):
        links.append(DeskLink(_("Course"), url))
    return links


def description(body: str, location: str, info: dict[str, Any] | None) -> str:
    """The description as stored and sent (API, helpdesks, plain-text e-mail): the body as
    sent, then the location's URL, then "Course: " and the course's URL."""
    text = body
    if url := location_url(location):
        text += f"\n\n{url}"
    if url := course_url(info):
        text += f"\n\nCourse: {url}"
    return text


def description_html(ticket) -> SafeString:
    """The ticket's description as HTML: the request (its first message) rendered on its
    own (support.rendering), then the desk's links from support/includes/desk_links.html."""
    links = render_to_string(
        "support/includes/desk_links.html",
        {"links": desk_links(ticket.location, ticket.info)},
    )
    request = ticket.first_message
    return mark_safe(render_text(request.body if request else "") + links)
