"""When text counts as blank: one definition for every text field of every entry point
(API, help form, requester's reply, staff's reply and note, staff's tags).

Text is blank when a reader would see nothing in it: nothing is left once these are
removed (by the Unicode character database the `regex` library ships, kept current by
its releases; Python's own `unicodedata` has no Default_Ignorable_Code_Point):

- separators, General_Category Z (spaces of every width, line and paragraph separators);
- controls and format characters, General_Category Cc and Cf (tabs and line breaks,
  zero-width space, joiners, direction marks, the byte-order mark, tag characters...);
- Default_Ignorable_Code_Point (DerivedCoreProperties.txt): what a renderer draws as
  nothing when it has no glyph for it, such as the Hangul fillers U+115F, U+1160, U+3164,
  U+FFA0, the Mongolian vowel separator U+180E, variation selectors, the combining
  grapheme joiner;
- the fillers of UnicodeData.txt that draw nothing but have none of those properties:
  U+2800 BRAILLE PATTERN BLANK, U+16FE4 KHITAN SMALL SCRIPT FILLER and U+1D159 MUSICAL
  SYMBOL NULL NOTEHEAD (the characters named FILLER, BLANK or NULL that are not visible
  marks such as U+2422 BLANK SYMBOL).
"""

import regex

_INVISIBLE = r"\p{Z}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800\U00016FE4\U0001D159"
_VISIBLE = regex.compile(f"[^{_INVISIBLE}]")


def is_blank(value: str) -> bool:
    """Whether `value` shows nothing to a reader (see the module's docstring)."""
    return _VISIBLE.search(value) is None
