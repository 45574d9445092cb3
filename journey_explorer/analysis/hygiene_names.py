"""How alike two event names are, once the tracking plan's spelling habits are set aside.

Two names are the *same* when they agree after normalising case, separators (``_ - . space``, camelCase),
plural and verb forms (a Snowball stemmer: ``invited``/``invite``/``invites`` -> ``invit``) and word
order (``invite_teammate`` = ``Invite Teammates`` = ``teammate_invited``). They are *similar* when half
their stemmed words agree, or their spellings differ by a typo; similar names are never enough on
their own (``Release A`` / ``Release B`` are alternatives, not one action).
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache

import snowballstemmer

SAME = "same"
SIMILAR = "similar"
UNRELATED = "unrelated"

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[^\W_]+")
_STEMMER = snowballstemmer.stemmer("english")
MIN_TYPO_LENGTH = 8          # shorter spellings differ by one letter too easily (cart / card)
TYPO_RATIO = 0.9
SIMILAR_JACCARD = 0.5


@lru_cache(maxsize=4096)
def words(name: str) -> tuple[str, ...]:
    """The stemmed, lower-case words of a name, in order.

    >>> words("Invite Teammates"), words("teammate_invited"), words("pageViews")
    (('invit', 'teammat'), ('teammat', 'invit'), ('page', 'view'))
    """
    spaced = _CAMEL.sub(" ", name)
    return tuple(_STEMMER.stemWord(w) for w in _WORD.findall(spaced.lower()))


def name_key(name: str) -> str:
    """Words in sorted order: names with the same key are spelled-differently twins.

    >>> name_key("invite_teammate") == name_key("Invite Teammates") == name_key("teammate_invited")
    True
    >>> name_key("add_to_cart") == name_key("remove_from_cart")
    False
    """
    return " ".join(sorted(words(name)))


@lru_cache(maxsize=4096)
def compact_key(name: str) -> str:
    """The words run together (``page_view`` and ``pageviews`` agree here, not by words).

    >>> compact_key("page_view") == compact_key("pageviews")
    True
    """
    return _STEMMER.stemWord("".join(_WORD.findall(name.lower())))


def name_match(a: str, b: str) -> str:
    """``SAME``, ``SIMILAR`` or ``UNRELATED``.

    >>> name_match("page_view", "page_views"), name_match("Release A", "Release B")
    ('same', 'unrelated')
    >>> name_match("checkout_start", "checkout_start_clicked"), name_match("recieve_order", "receive_order")
    ('similar', 'similar')
    """
    if name_key(a) == name_key(b) or compact_key(a) == compact_key(b):
        return SAME
    wa, wb = set(words(a)), set(words(b))
    if wa and wb and len(wa & wb) / len(wa | wb) >= SIMILAR_JACCARD and len(wa | wb) >= 3:
        return SIMILAR
    ca, cb = compact_key(a), compact_key(b)
    if min(len(ca), len(cb)) < MIN_TYPO_LENGTH or 2 * min(len(ca), len(cb)) / (len(ca) + len(cb)) < TYPO_RATIO:
        return UNRELATED      # too short, or too different in length for a typo (skips the slow ratio)
    if difflib.SequenceMatcher(None, ca, cb).ratio() >= TYPO_RATIO:
        return SIMILAR
    return UNRELATED


def candidate_name_pairs(names: list[str] | tuple[str, ...]) -> dict[tuple[int, int], str]:
    """Index pairs (i < j) of names that are the same or similar, with the kind of match.

    Same-key names are found by grouping (linear); similar ones by comparing every pair, which is
    quick for the few hundred names a tracking plan has.
    """
    out: dict[tuple[int, int], str] = {}
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            match = name_match(names[i], names[j])
            if match != UNRELATED:
                out[(i, j)] = match
    return out
