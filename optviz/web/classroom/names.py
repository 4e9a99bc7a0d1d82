"""Students' names: what a leaderboard on a projector may show, and when two names are
one.

A name is NFKC-normalized (full-width and styled letters become plain ones, ``ﬁ`` becomes
``fi``), its runs of white space become one space, and it must be 1 to MAX_NAME
characters with at least one letter or digit. Refused, with a message naming the
character: control and format characters (bidirectional overrides, zero-width joiners),
default-ignorable ones (U+3164 HANGUL FILLER and its kin draw nothing), blank-looking
symbols (U+2800), private-use and unassigned code points, a combining mark with no base,
and more than MAX_MARKS combining marks on one base (a stack drawn over the rows above
and below). Vietnamese, Devanagari or Thai names, whose letters carry one or two marks,
are fine.

Two names are *confusable* when their skeletons are equal: Unicode TS #39's skeleton
(NFD, each character replaced by its prototype from ``confusables.txt``, NFD again) of
the name, case-folded, skeleton again, so that ``Ada``, ``ada``, ``Аda`` (Cyrillic А) and
``ＡＤＡ`` are one name, as are ``Il1`` and ``lll`` or ``rn`` and ``m``.
"""
from __future__ import annotations

import functools
import pathlib
import unicodedata

__all__ = ["NameError_", "normalize", "skeleton", "MAX_NAME", "MAX_MARKS"]

MAX_NAME = 24
#: Combining marks allowed on one base character (after NFKC composes what it can).
MAX_MARKS = 2

#: Default_Ignorable_Code_Point (Unicode 15, DerivedCoreProperties.txt): drawn as
#: nothing. Python's unicodedata does not carry the property.
_IGNORABLE = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
              (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
              (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
              (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
              (0xE0000, 0xE0FFF))
#: Symbols that draw as blank space without being spaces.
_BLANK = {0x2800}


class NameError_(ValueError):
    """A name refused; the message says why (the caller names the field)."""


def _ignorable(c: str) -> bool:
    o = ord(c)
    return o in _BLANK or any(lo <= o <= hi for lo, hi in _IGNORABLE)


def normalize(name: object) -> str:
    """The name as it is kept and shown, or NameError_ saying what is wrong with it."""
    if not isinstance(name, str):
        raise NameError_(f"1 to {MAX_NAME} characters")
    if len(name) > 4 * MAX_NAME:                       # (before any work on it)
        raise NameError_(f"1 to {MAX_NAME} characters")
    text = " ".join(unicodedata.normalize("NFKC", name).split())
    if not text:
        raise NameError_(f"1 to {MAX_NAME} characters")
    if len(text) > MAX_NAME:
        raise NameError_(f"1 to {MAX_NAME} characters (this one has {len(text)})")
    for c in text:
        cat = unicodedata.category(c)
        if cat[0] == "C" or _ignorable(c) or (cat[0] == "Z" and c != " "):
            raise NameError_(f"1 to {MAX_NAME} visible characters; U+{ord(c):04X} "
                             f"({unicodedata.name(c, 'unnamed')}) draws nothing or "
                             "controls the text")
    marks = 0                 # counted on the decomposed text: é + two marks is three
    decomposed = unicodedata.normalize("NFD", text)
    for i, c in enumerate(decomposed):
        if unicodedata.category(c) not in ("Mn", "Me"):
            marks = 0
            continue
        if i == 0 or decomposed[i - 1] == " ":
            raise NameError_(f"a combining mark (U+{ord(c):04X}) with no letter under it")
        marks += 1
        if marks > MAX_MARKS:
            raise NameError_(f"at most {MAX_MARKS} accents on one letter")
    if not any(unicodedata.category(c)[0] in "LN" for c in text):
        raise NameError_("a name needs a letter or a digit")
    return text


@functools.cache
def _prototypes() -> dict[str, str]:
    table = {}
    path = pathlib.Path(__file__).with_name("confusables.txt")
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            source, *target = line.split()
            table[chr(int(source, 16))] = "".join(chr(int(t, 16)) for t in target)
    return table


def _ts39(text: str) -> str:
    table = _prototypes()
    text = unicodedata.normalize("NFD", text)
    text = "".join(table.get(c, c) for c in text if not _ignorable(c))
    return unicodedata.normalize("NFD", text)


_prototypes()          # (read once on import: a preloading server's workers share it)


def skeleton(name: str) -> str:
    """What ``name`` looks like, as a key: equal for names a reader could take for one
    another (see the module's docstring)."""
    return _ts39(_ts39(name).casefold())
