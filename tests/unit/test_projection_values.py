"""The read model's value conventions and its memoised framework."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal as D

from domain.framework import LeafInput, compute, to_dict
from interfaces.bundled import load_bundled
from projections.frameworks import cached
from projections.rows import INDEX_SCALE, TOTAL_SCALE, dec_text, jdump, scaled_key, utc_text


def test_sort_keys_are_exact_for_totals_and_floored_for_quotients():
    assert scaled_key(D("89.9999"), TOTAL_SCALE) == 899_999
    assert scaled_key(D("90"), TOTAL_SCALE) == 900_000
    third = D(200) / D(3)  # 66.666...
    assert scaled_key(third, INDEX_SCALE) == 66_666_666_666_666
    assert scaled_key(None, INDEX_SCALE) is None


def test_decimals_are_stored_as_their_canonical_text():
    assert [dec_text(D(x)) for x in ("2.9350", "10", "0.0", "1E+1")] == ["2.935", "10", "0", "10"]
    assert dec_text(None) is None


def test_times_are_utc_with_z_and_six_fractional_digits():
    assert utc_text(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2025-01-02T03:04:05.000000Z"
    hanoi = timezone(timedelta(hours=7))
    assert (
        utc_text(datetime(2025, 1, 2, 7, 0, 0, 12, tzinfo=hanoi)) == "2025-01-02T00:00:00.000012Z"
    )


def test_json_text_is_canonical_so_equal_values_are_equal_text():
    assert jdump({"b": "1", "a": "Xã"}) == '{"a":"Xã","b":"1"}'


def test_the_memoised_framework_scores_exactly_as_the_domain_model():
    plain = load_bundled("thai-nguyen-2021-commune")
    fast = cached(to_dict(plain))
    rnd = random.Random(4203)
    for _ in range(5):
        inputs = {}
        for leaf in plain.leaves:
            pick = rnd.random()
            if pick < 0.2:
                continue
            if pick < 0.25 and leaf.rule.na_policy is not None:
                inputs[leaf.code] = LeafInput(not_applicable=True)
            else:
                inputs[leaf.code] = LeafInput(points=leaf.max_points * rnd.choice([0, 1]) / 2)
        assert compute(fast, inputs, allow_missing=True) == compute(
            plain, inputs, allow_missing=True
        )
    assert fast.leaves == plain.leaves
    assert all(fast.leaves_under(n.code) == plain.leaves_under(n.code) for n in plain.nodes)
