"""Forwarding backends: where a platform's tickets are copied to (Zendesk, a webhook...).

Each module exposes a `ForwardBackend` class; SUPPORT["FORWARD_BACKEND"] names one by its
dotted path, or is None (the default) to forward nothing.
"""

from django.utils.module_loading import import_string

from ..conf import get_setting
from .base import BaseForwardBackend, ForwardResult

__all__ = ["BaseForwardBackend", "ForwardResult", "get_forward_backend"]


def get_forward_backend() -> BaseForwardBackend | None:
    """The configured backend, ready to use, or None when forwarding is off.

    Raises ImportError for a path that cannot be imported and ImproperlyConfigured for a
    backend whose settings are missing.
    """
    path = get_setting("FORWARD_BACKEND")
    return import_string(path)() if path else None
