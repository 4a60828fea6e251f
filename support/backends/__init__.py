"""Forwarding backends: where a platform's tickets are copied to (Zendesk, a webhook...).

Each module exposes a `ForwardBackend` class; SUPPORT["FORWARD_BACKEND"] names one by its
dotted path, or is None (the default) to forward nothing.
"""

from functools import cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from ..conf import get_setting
from .base import BaseForwardBackend, ForwardResult

__all__ = ["BaseForwardBackend", "ForwardResult", "get_forward_backend"]


def get_forward_backend() -> BaseForwardBackend | None:
    """The configured backend, ready to use, or None when forwarding is off. One instance
    per process, so that its HTTP session keeps connections open between deliveries.

    Raises ImportError for a path that cannot be imported and ImproperlyConfigured for a
    backend whose settings are missing.
    """
    path = get_setting("FORWARD_BACKEND")
    return _backend(path) if path else None


@cache
def _backend(path: str) -> BaseForwardBackend:
    return import_string(path)()


@receiver(setting_changed)
def _forget_backend(setting: str, **kwargs) -> None:
    if setting == "SUPPORT":
        _backend.cache_clear()
