"""The hostile values the soak's garbage is made of, as literal tables.

Each table is one way a payload (or an id in it) can be wrong: JSON that does
not parse, bytes that are not UTF-8, JSON that is not an object, values of the
wrong type, numbers no float holds, ids and strings that break what they reach.
devkit/fuzz.py picks from them with its seeded generator, so their order matters:
a value added or moved changes what a seed generates.
"""

from __future__ import annotations

from typing import Any, Final

WRONG_VALUES: Final[tuple[Any, ...]] = (
    7,
    -1,
    3.5,
    True,
    None,
    [],
    [1, "two"],
    {},
    {"nested": 1},
    "",
    "text",
    "2025-13-45T99:99:99",
)
HUGE_LITERALS: Final = (
    "1" + "0" * 400,  # an integer no float can hold
    str(2**64),
    "-" + str(2**63 + 1),
    "1e400",  # json turns it into inf
    "-1e400",
    "1e-400",
    "9" * 4400,  # over Python's integer-digits limit
    "253402300800000",  # epoch ms just after year 9999
    "-1",
)
NAN_LITERALS: Final = ("NaN", "Infinity", "-Infinity")
HOSTILE_IDS: Final = (
    "a/b",
    "a+b",
    "a#b",
    "+",
    "#",
    "/",
    "../..",
    "x\x00y",
    "\x01",
    "tab\there",
    "\x85",
    "x" * 129,
    "",
    7,
    None,
)
HOSTILE_STRINGS: Final = (
    "\ud800",  # a lone surrogate: valid JSON (escaped), invalid UTF-8
    "\udfff tail",
    "nul\x00inside",
    "bell\x07 and escape\x1b[31m",
    "\u202eright-to-left",
    "zero\u200bwidth",
    "🙂" * 50,
    "\uff46\uff55\uff4c\uff4c width",  # fullwidth letters
    "<script>alert(1)</script>",
    "{{ states('sun.sun') }}",
    "' OR 1=1 --",
)
MALFORMED_JSON: Final = (
    b"{",
    b"}",
    b'{"state": "idle"',
    b'{"state": "idle",}',
    b"{'state': 'idle'}",
    b'{"state" "idle"}',
    b'{"state": idle}',
    b'{"a": 1} {"b": 2}',
    b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
    b"null garbage",
    b'{"a": "unterminated',
    b'{"a": 01}',
    b'{"a": .5}',
    b'{"a": +1}',
    b'{"a": 0x10}',
    b'{"a": "\\x41"}',
    b'{"a": "\\u12"}',
    b"\x00\x00\x00",
)
BAD_UTF8: Final = (
    b"\xff\xfe\xfd",
    b"\xc0\xaf",  # an overlong slash
    b"\xe0\x80\xaf",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\xc3",  # cut in the middle of a character
    b"\x80\x81\x82",
)
NOT_OBJECTS: Final = (
    b"[]",
    b"[1, 2, 3]",
    b'"idle"',
    b"42",
    b"true",
    b"null",
    b"-0.0",
    b'[{"state": "idle"}]',
)
