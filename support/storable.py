"""What every supported database can store, checked before any of them sees a value.

Text and JSON (a ticket's `info` and `tags`) must survive SQLite and PostgreSQL alike:

- text: no NUL (PostgreSQL's text cannot hold it) and no lone surrogate (a JSON escape
  such as "\\ud800" makes one; UTF-8 cannot encode it, so neither database can store it,
  nor can an answer that echoes it be sent);
- numbers: finite, and within a double's range (±1.797e308). JSON has no NaN or
  Infinity, and both databases refuse the tokens Python writes for them (SQLite's
  JSON_VALID check, PostgreSQL's "Token Infinity is invalid"). A larger integer is
  stored by both as text, but SQLite's JSON functions read it back as Infinity, Python
  refuses to read or write one over 4300 digits, and PostgreSQL's numeric stops at
  131072; the double's range is the rule every one of them, and any JSON reader a
  ticket is forwarded to, agrees on;
- only JSON's types (objects with text keys, arrays, text, numbers, true, false, null),
  nested at most MAX_DEPTH levels.
"""

import math
import re
from typing import Any

from django.utils.translation import gettext as _

MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def storage_problem(value: Any, depth: int = 0) -> str | None:
    """Why `value` (text, or a JSON value as json.loads returns it) cannot be stored by
    every supported database, or None. The message names the key or index at fault
    inside an object or array, e.g. "exit_code: Send a finite number ..."."""
    if isinstance(value, str):
        return _text_problem(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if _in_double_range(value) else _number_problem()
    if depth > MAX_DEPTH:
        return _("Nested more than %d levels deep.") % MAX_DEPTH
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return _("Object keys must be text.")
            problem = _text_problem(key) or storage_problem(item, depth + 1)
            if problem:
                return f"{printable(key)}: {problem}"
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            problem = storage_problem(item, depth + 1)
            if problem:
                return f"{index}: {problem}"
        return None
    return _("Send text, numbers, true, false, null, lists or objects.")


def printable(text: str) -> str:
    """`text` with anything UTF-8 cannot encode (lone surrogates) replaced by U+FFFD, so
    that an answer may echo what a client sent."""
    return _SURROGATE.sub("\ufffd", text)


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return _("Contains a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Contains text that is not valid Unicode.")
    return None


def _in_double_range(number: float) -> bool:
    if isinstance(number, float):
        return math.isfinite(number)
    try:
        float(number)
    except OverflowError:
        return False
    return True


def _number_problem() -> str:
    return _("Send a finite number between -1.7e308 and 1.7e308 (JSON has no NaN or Infinity).")
