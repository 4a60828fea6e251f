"""The API's JSON parser."""

import codecs
import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Digits beyond which an integer is out of a double's range (1.8e308 has 309).
MAX_NUMBER_DIGITS = 309


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, made to leave every refusal of a value to the field it is in.

    - NaN, Infinity and -Infinity (Python reads them; JSON has none) and numbers out of a
      double's range (1e999; an integer of more digits than a double holds, which Python
      would otherwise refuse as a whole-body parse error past 4300 digits) are read as
      infinite floats, which support.storable refuses with the field's name.
    - Absurdly nested JSON is a 400, not a 500, and so is a body that does not decode in
      its charset (a lone surrogate in UTF-16, a truncated character).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            # Decoded whole and strictly: a stream reader would drop a trailing lone
            # surrogate or odd byte without a word.
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as err:
            raise ParseError(
                _("JSON parse error - the body is not valid %(charset)s: %(reason)s")
                % {"charset": codecs.lookup(encoding).name, "reason": err.reason}
            ) from None
        try:
            return json.loads(text, parse_int=parse_int)
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deeply.")) from None
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %s") % exc) from None


def parse_int(text: str) -> int | float:
    """An integer of JSON, or an infinite float past a double's range (see JSONParser)."""
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        return float("-inf") if text.startswith("-") else float("inf")
    return int(text)
