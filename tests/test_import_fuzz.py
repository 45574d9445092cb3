"""Random junk never crashes the importer: it imports, or fails with a user-facing message."""
from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey_explorer.domain import JourneyError
from journey_explorer.store.importer import import_file

HEADER = b"user,event,time\n"
cells = st.sampled_from([b"u1", b"u2", b"", b"a", b"2024-01-01T00:00:00Z", b"1700000000", b"\"", b",",
                         b"\xff\xfe", b"\x00", b"03/04/2024", b"nan", b"\n", b";"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=400), st.lists(cells, max_size=60).map(b"".join)),
       with_header=st.booleans())
def test_junk_never_crashes(tmp_path, body, with_header):
    name = hashlib.md5(body + bytes([with_header])).hexdigest()
    source = tmp_path / f"{name}.csv"
    source.write_bytes((HEADER if with_header else b"") + body)
    project = tmp_path / f"{name}.journey"
    try:
        summary = import_file(project, source)
    except JourneyError as exc:
        assert str(exc)
        assert not project.exists()
    else:
        assert summary.imported + summary.rejected + summary.duplicates <= summary.read + summary.duplicates
