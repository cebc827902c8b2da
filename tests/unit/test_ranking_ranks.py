"""Ranking pages give every row the rank SQL's RANK() gives it over the whole cycle,
including ties and units with no index (applicable maximum 0)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.queries import Queries
from projections.schema import columns
from projections.store import ReadModel


def _model(tmp_path, totals: list[tuple[int | None, int]]) -> ReadModel:
    rm = ReadModel(str(tmp_path / f"rm-{random.getrandbits(48):x}.sqlite"))
    with rm.write() as cur:
        cur.execute(
            "INSERT INTO cycles (cycle, name, framework, year, authority, province) "
            "VALUES ('c', 'C', 'f@1', 2025, 'a', 'p')"
        )
        names = columns("unit_totals")
        for i, (index_key, total_key) in enumerate(totals):
            row = dict.fromkeys(names)
            row.update(
                cycle="c",
                unit=f"u{i:03d}",
                unit_name=f"U{i}",
                position=i,
                framework="f@1",
                index_key=index_key,
                total_key=total_key,
            )
            quoted = ", ".join(f'"{n}"' for n in names)
            cur.execute(
                f"INSERT INTO unit_totals ({quoted}) VALUES ({', '.join('?' * len(names))})",
                [row[n] for n in names],
            )
    return rm


@settings(max_examples=60, deadline=None)
@given(
    totals=st.lists(
        st.tuples(st.none() | st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=25
    ),
    limit=st.integers(1, 6),
    offset=st.integers(0, 26),
)
def test_each_page_ranks_like_rank_over_the_whole_cycle(tmp_path_factory, totals, limit, offset):
    rm = _model(tmp_path_factory.mktemp("rank"), totals)
    try:
        with rm.read() as cur:
            cur.execute(
                "SELECT unit, RANK() OVER (ORDER BY index_key DESC, total_key DESC) "
                "AS rank FROM unit_totals WHERE cycle = 'c'"
            )
            expected = {r["unit"]: r["rank"] for r in cur.fetchall()}
        page = Queries(rm).ranking("c", limit=limit, offset=offset)["rows"]
        assert [(r["unit"], r["rank"]) for r in page] == [
            (r["unit"], expected[r["unit"]]) for r in page
        ]
        assert len(page) == max(0, min(limit, len(totals) - offset))
    finally:
        rm.close()
