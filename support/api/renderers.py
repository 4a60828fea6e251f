"""The API's one renderer: JSON, whatever the client asked for."""

from typing import Any

from rest_framework import renderers

from ..storable import printable


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, which never fails on text UTF-8 cannot encode: should a lone
    surrogate a client sent reach an answer (an echoed name or id), it goes out as U+FFFD
    rather than turning the answer into a 500."""

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return super().render(_printable(data), accepted_media_type, renderer_context)


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {_printable(key): _printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(item) for item in value]
    return value
