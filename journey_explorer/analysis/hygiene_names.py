"""How alike two event names are, once the tracking plan's spelling habits are set aside.

Two names are the *same* when they agree after normalising case, separators (``_ - . space``, camelCase),
plural and verb forms (a Snowball stemmer: ``invited``/``invite``/``invites`` -> ``invit``) and word
order (``invite_teammate`` = ``Invite Teammates`` = ``teammate_invited``). They are *similar* when half
their stemmed words agree (of at least three), or they differ in one word only, by a typo (a letter
added, dropped, changed, or two swapped, in words of 5+ letters: ``recieve`` / ``receive``, but not
``A`` / ``B``). Similar names are never enough on their
own (``Release A`` / ``Release B`` are alternatives, not one action).

Candidates are found through indexes (word -> names, one-letter deletions -> names), so a catalog
of thousands of names is not compared pair by pair.
"""
from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

SAME = "same"
SIMILAR = "similar"
UNRELATED = "unrelated"

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[^\W_]+")
MIN_TYPO_LENGTH = 5          # shorter words differ by one letter too easily (cart / card, A / B)
SIMILAR_JACCARD = 0.5


@lru_cache(maxsize=1)
def _stemmer():
    """The English Snowball stemmer, built when first needed (importing it costs ~0.1 s at start-up)."""
    import snowballstemmer
    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=4096)
def words(name: str) -> tuple[str, ...]:
    """The stemmed, lower-case words of a name, in order.

    >>> words("Invite Teammates"), words("teammate_invited"), words("pageViews")
    (('invit', 'teammat'), ('teammat', 'invit'), ('page', 'view'))
    """
    spaced = _CAMEL.sub(" ", name)
    return tuple(stem(w) for w in _WORD.findall(spaced.lower()))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """One word's Snowball stem (cached: a catalog repeats its few hundred words)."""
    return _stemmer().stemWord(word)


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
    """The stemmed words run together (``page_view`` and ``pageviews`` agree here, not by words).

    >>> compact_key("page_view") == compact_key("pageviews")
    True
    """
    return "".join(words(name))


def deletions(text: str) -> set[str]:
    """The text with one letter dropped, every way (and the text itself).

    >>> sorted(deletions("abc"))
    ['ab', 'abc', 'ac', 'bc']
    """
    return {text} | {text[:k] + text[k + 1:] for k in range(len(text))}


def one_typo_apart(a: str, b: str) -> bool:
    """The names differ in exactly one (stemmed) word, and those two words, of 5+ letters, are one
    typo apart (they share a one-letter deletion).

    >>> one_typo_apart("recieve_order", "receive_order"), one_typo_apart("Release A", "Release B")
    (True, False)
    """
    wa, wb = set(words(a)), set(words(b))
    only_a, only_b = wa - wb, wb - wa
    if len(only_a) != 1 or len(only_b) != 1:
        return False
    x, y = only_a.pop(), only_b.pop()
    return min(len(x), len(y)) >= MIN_TYPO_LENGTH and bool(deletions(x) & deletions(y))


def _shared_words_similar(a: str, b: str, shared: int | None = None) -> bool:
    wa, wb = set(words(a)), set(words(b))
    shared = len(wa & wb) if shared is None else shared
    union = len(wa) + len(wb) - shared
    return shared > 0 and union >= 3 and shared / union >= SIMILAR_JACCARD


def name_match(a: str, b: str) -> str:
    """``SAME``, ``SIMILAR`` or ``UNRELATED``.

    >>> name_match("page_view", "page_views"), name_match("Release A", "Release B")
    ('same', 'unrelated')
    >>> name_match("checkout_start", "checkout_start_clicked"), name_match("recieve_order", "receive_order")
    ('similar', 'similar')
    """
    if name_key(a) == name_key(b) or compact_key(a) == compact_key(b):
        return SAME
    return SIMILAR if _shared_words_similar(a, b) or one_typo_apart(a, b) else UNRELATED


def candidate_name_pairs(names: list[str] | tuple[str, ...]) -> dict[tuple[int, int], str]:
    """Index pairs (i < j) of names that are the same or similar, with the kind of match (as
    ``name_match`` says), found through indexes rather than by comparing every pair: equal keys
    grouped; shared words counted by a sparse name x word product; typos looked up among the
    distinct words (one-letter deletions), then among the names holding them."""
    out: dict[tuple[int, int], str] = {}
    keys: dict[str, list[int]] = defaultdict(list)
    holders: dict[str, list[int]] = defaultdict(list)          # word -> names holding it
    for i, name in enumerate(names):
        keys["k:" + name_key(name)].append(i)
        keys["c:" + compact_key(name)].append(i)
        for word in set(words(name)):
            holders[word].append(i)
    for group in keys.values():
        for pair in _pairs(group):
            out[pair] = SAME
    for pair in _sharing_words(names, holders):
        out.setdefault(pair, SIMILAR)
    for x, y in _typo_word_pairs(list(holders)):
        for i in holders[x]:
            for j in holders[y]:
                pair = (min(i, j), max(i, j))
                if i != j and pair not in out and one_typo_apart(names[i], names[j]):
                    out[pair] = SIMILAR
    return out


def _sharing_words(names, holders: dict[str, list[int]]) -> list[tuple[int, int]]:
    """Pairs whose word sets overlap by ``SIMILAR_JACCARD`` or more (of three words or more)."""
    import numpy as np
    import scipy.sparse as sparse
    rows = [i for members in holders.values() for i in members]
    cols = [k for k, members in enumerate(holders.values()) for _ in members]
    if not rows:
        return []
    incidence = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(names), len(holders)))
    shared = sparse.triu(incidence @ incidence.T, k=1).tocoo()
    sizes = np.asarray(incidence.sum(axis=1)).ravel()
    union = sizes[shared.row] + sizes[shared.col] - shared.data
    keep = (union >= 3) & (shared.data >= SIMILAR_JACCARD * union)
    return list(zip(shared.row[keep].tolist(), shared.col[keep].tolist()))


def _typo_word_pairs(vocabulary: list[str]) -> set[tuple[str, str]]:
    """Pairs of distinct words (5+ letters) one typo apart, through their one-letter deletions."""
    by_deletion: dict[str, list[str]] = defaultdict(list)
    for word in vocabulary:
        if len(word) >= MIN_TYPO_LENGTH:
            for variant in deletions(word):
                by_deletion[variant].append(word)
    return {(x, y) for group in by_deletion.values() for x in group for y in group if x < y}


def _pairs(members: list[int]):
    members = sorted(set(members))
    return ((members[x], members[y]) for x in range(len(members)) for y in range(x + 1, len(members)))
