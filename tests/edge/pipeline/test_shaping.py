"""DeltaShaper: the deltas of a question's answer concatenate to exactly the stripped answer, however it is cut."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edge.pipeline.shaping import DeltaShaper, shape_answer

pieces = st.lists(st.text(alphabet=" \n\tab.é", max_size=4), max_size=12)


@given(pieces=pieces, strip=st.booleans())
def test_deltas_concatenate_to_the_served_answer(pieces: list[str], strip: bool):
    shaper = DeltaShaper(strip)
    out = [shaper.feed(p) for p in pieces]
    assert "".join(out) == shape_answer("".join(pieces), strip)


def test_trailing_whitespace_waits_for_more_text_and_leading_never_goes_out():
    shaper = DeltaShaper(True)
    assert [shaper.feed(p) for p in ("  ", "\nPar", "is ", " \n", "France")] == ["", "Par", "is", "", "  \nFrance"]
    raw = DeltaShaper(False)
    assert raw.feed(" a ") == " a "
