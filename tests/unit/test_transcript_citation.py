"""Citations in the paper's style, and the range abbreviation behind them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.golden.fixture import fixture_extract
from transcript.citation import abbreviate_range, cite, expand_range, short_cite


@pytest.mark.parametrize("first, last, expected", [
    (505, 507, "505-7"), (978, 981, "978-81"), (54, 57, "54-7"), (1099, 1102, "1099-102"),
    (509, 510, "509-10"), (372, 374, "372-4"), (293, 296, "293-6"),
    (971, 972, "971-2"), (7, 7, "7"), (9, 12, "9-12"), (99, 100, "99-100"),
    (100, 110, "100-10"), (1, 5, "1-5"),
    # the teens of each hundred keep both digits (British usage): never '10-4'
    (10, 14, "10-14"), (10, 12, "10-12"), (115, 118, "115-18"), (1111, 1118, "1111-18"),
    (415, 419, "415-19"), (110, 119, "110-19"), (1110, 1112, "1110-12"), (12, 13, "12-13"),
    (2019, 2021, "2019-21"), (505, 517, "505-17"),
])
def test_ranges_abbreviate_as_in_the_paper(first: int, last: int, expected: str) -> None:
    assert abbreviate_range(first, last) == expected


@given(st.integers(1, 10**6), st.integers(0, 10**4))
def test_abbreviation_is_reversible_and_never_longer(first: int, span: int) -> None:
    last = first + span
    text = abbreviate_range(first, last)
    assert expand_range(text) == (first, last)
    assert len(text) <= len(f"{first}-{last}")
    if span:
        start, _, end = text.partition("-")
        assert start == str(first) and str(last).endswith(end) and end
        if last % 100 // 10 == 1:  # a teen keeps both digits, so it never reads backwards
            assert len(end) >= 2
        assert int(end) > int(str(first)[-len(end):]) or len(end) == len(str(first))


def test_old_teen_citations_still_read_back() -> None:
    """An extract cited before the teens rule ('10-4') still expands to the same lines."""
    assert expand_range("10-4") == (10, 14)
    assert expand_range("115-8") == (115, 118)


@pytest.mark.parametrize("bad", [(0, 3), (5, 4)])
def test_impossible_ranges_are_refused(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        abbreviate_range(*bad)


@pytest.mark.parametrize("bad", ["", "a-b", "12-", "985-2"])
def test_bad_range_text_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        expand_range(bad)


def test_full_and_short_citations_match_the_paper() -> None:
    assert cite(4, "P1", "Occupational Therapist", 978, 981) == \
        "(Extract 4. P1, Occupational Therapist. 978-81)"
    assert cite(1, "P4", "Social Worker", 505, 507) == "(Extract 1. P4, Social Worker. 505-7)"
    assert short_cite("P1", 971, 972) == "(P1.971-2)"
    assert cite(2, "P9", "", 3, 3) == "(Extract 2. P9. 3)"


def test_extract_knows_its_citation() -> None:
    extract = fixture_extract()
    assert extract.citation == "(Extract 1. P4, Social Worker. 2-3)"
    assert extract.short_citation == "(P4.2-3)"
