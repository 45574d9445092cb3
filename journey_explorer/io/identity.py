"""Identity stitching for logs with an anonymous id and a user id, as analytics tools merge them.

Web and app logs carry an anonymous (device, cookie) id on every event and a user id only once the
person has logged in or subscribed. Segment, Amplitude and Mixpanel merge the two: the events before
login join the user's path. Here the same merge for any file with both columns (CSV, Parquet,
Excel, JSON lines without a vendor shape; Segment's own exports are merged in ``io.vendors``):

* each row with a user id belongs to that user;
* a row without one belongs to the user its anonymous id was seen with, when that is exactly one
  user (the anonymous id is then that person's device);
* an anonymous id never seen with a user id stays its own path (a reader who never logged in);
* an anonymous id seen with several user ids is a shared device: its rows without a user id cannot
  be told apart, so they stay the anonymous id's own path, and the users are never merged.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class IdentityLinks:
    """Which user each anonymous id belongs to, learned chunk by chunk, and what the merge decided.

    Ids are kept as the cells hold them (the importer encodes a user id as read), so a stitched row
    carries exactly the user id the identified rows carry."""

    user_of: dict = field(default_factory=dict)          # anonymous id -> its one user id
    shared: int = 0                                      # anonymous ids seen with several user ids
    _seen: dict = field(default_factory=dict, repr=False)    # anonymous id -> user ids (while learning)

    def add(self, anonymous: pd.Series, user: pd.Series) -> None:
        """Learn from one chunk of rows (the two columns, row by row)."""
        both = _present(anonymous) & _present(user)
        pairs = pd.DataFrame({"anonymous": anonymous.to_numpy(dtype=object)[both],
                              "user": user.to_numpy(dtype=object)[both]}).drop_duplicates()
        for anonymous_id, user_id in pairs.itertuples(index=False):
            self._seen.setdefault(anonymous_id, set()).add(user_id)

    def finish(self) -> "IdentityLinks":
        """Keep the anonymous ids seen with exactly one user id; count the shared ones."""
        self.user_of = {anonymous: next(iter(users)) for anonymous, users in self._seen.items() if len(users) == 1}
        self.shared = len(self._seen) - len(self.user_of)
        self._seen = {}
        return self

    def owners(self, anonymous: pd.Series, user: pd.Series) -> np.ndarray:
        """Each row's path owner: its user id, else the one user of its anonymous id, else the
        anonymous id itself (None when the row has neither).

        >>> links = identity_links(pd.Series(["a1", "a1", "a2"]), pd.Series([None, "u1", None]))
        >>> links.owners(pd.Series(["a1", "a2", None, "a1"]), pd.Series([None, None, "", "u7"])).tolist()
        ['u1', 'a2', None, 'u7']
        """
        known, anonymous_cells = user.to_numpy(dtype=object), anonymous.to_numpy(dtype=object)
        linked = pd.Series(anonymous_cells, dtype=object).map(self.user_of).to_numpy(dtype=object)
        has_link = ~pd.isna(linked)
        stitched = np.where(has_link, linked, np.where(_present(anonymous), anonymous_cells, None))
        return np.where(_present(user), known, stitched)

    def note(self, anonymous_column: str, user_column: str) -> str:
        """One sentence for the import summary.

        >>> print(IdentityLinks(user_of={"a1": "u1"}, shared=2).note("anonymous_id", "user_id"))
        ... # doctest: +NORMALIZE_WHITESPACE
        Identities merged as analytics tools do: an event without a user_id belongs to the user its
        anonymous_id was seen with (1 anonymous_id value joined a user); an anonymous_id never seen with a
        user_id is its own path; 2 anonymous_id values seen with several user_id values (shared devices)
        keep their events without a user apart. Choose {user} to follow one column only.
        """
        joined = len(self.user_of)
        shared = (f"; {self.shared:,} {anonymous_column} value{'s' if self.shared != 1 else ''} seen with several "
                  f"{user_column} values (shared devices) keep their events without a user apart" if self.shared else "")
        return (f"Identities merged as analytics tools do: an event without a {user_column} belongs to the user "
                f"its {anonymous_column} was seen with ({joined:,} {anonymous_column} value{'s' if joined != 1 else ''} "
                f"joined a user); an {anonymous_column} never seen with a {user_column} is its own path{shared}. "
                "Choose {user} to follow one column only.")


def identity_links(anonymous: pd.Series, user: pd.Series) -> IdentityLinks:
    """The links learned from whole columns at once (see ``IdentityLinks``).

    >>> links = identity_links(pd.Series(["a1", "a1", "d9", "d9", "d9"]),
    ...                        pd.Series(["u1", None, "u2", "u3", None]))
    >>> links.user_of, links.shared
    ({'a1': 'u1'}, 1)
    """
    links = IdentityLinks()
    links.add(anonymous, user)
    return links.finish()


def _present(values: pd.Series) -> np.ndarray:
    """Cells holding an id: not missing and not blank (as the importer's user check reads them)."""
    cells = values.to_numpy(dtype=object)
    present = ~pd.isna(cells)
    present[present] = pd.Series(cells[present], dtype=object).astype(str).str.strip().to_numpy() != ""
    return present
