"""Live ranking pages give every submitted unit the rank the official manifest
gives it (domain.ranking.with_ranks: appraised totals at 4 places, ties share a
rank, then by code) and SQL's RANK() over the whole cycle; units that did not
submit are never ranked."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.framework import canonical
from domain.ranking import with_ranks
from projections.queries import Queries
from projections.schema import columns
from projections.store import ReadModel


def _model(tmp_path, totals: list[tuple[bool, int]]) -> ReadModel:
    rm = ReadModel(str(tmp_path / f"rm-{random.getrandbits(48):x}.sqlite"))
    with rm.write() as cur:
        cur.execute(
            "INSERT INTO cycles (cycle, name, framework, year, authority, province) "
            "VALUES ('c', 'C', 'f@1', 2025, 'a', 'p')"
        )
        names = columns("unit_totals")
        for i, (submitted, total_key) in enumerate(totals):
            row = dict.fromkeys(names)
            row.update(
                cycle="c",
                unit=f"u{i:03d}",
                unit_name=f"U{i}",
                position=i,
                framework="f@1",
                appraised_total=_total(total_key),
                total_key=total_key,
                submitted=int(submitted),
            )
            quoted = ", ".join(f'"{n}"' for n in names)
            cur.execute(
                f"INSERT INTO unit_totals ({quoted}) VALUES ({', '.join('?' * len(names))})",
                [row[n] for n in names],
            )
    return rm


def _total(key: int) -> str:
    return canonical(Decimal(key).scaleb(-4))


@settings(max_examples=60, deadline=None)
@given(
    totals=st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=1, max_size=25),
    limit=st.integers(1, 6),
    offset=st.integers(0, 26),
)
def test_each_page_ranks_like_the_manifest_over_the_whole_cycle(
    tmp_path_factory, totals, limit, offset
):
    rm = _model(tmp_path_factory.mktemp("rank"), totals)
    try:
        with rm.read() as cur:
            cur.execute(
                "SELECT unit, RANK() OVER (ORDER BY total_key DESC) AS rank "
                "FROM unit_totals WHERE cycle = 'c' AND submitted = 1"
            )
            expected = {r["unit"]: r["rank"] for r in cur.fetchall()}
        lines = [
            {
                "unit": f"u{i:03d}",
                "status": "submitted" if submitted else "not_submitted",
                "appraised_total": _total(key),
            }
            for i, (submitted, key) in enumerate(totals)
        ]
        ranked, others = with_ranks(lines)
        doc = Queries(rm).ranking("c", limit=limit, offset=offset)
        page = doc["rows"]
        assert [(r["unit"], r["rank"]) for r in page] == [
            (x["unit"], x["rank"]) for x in ranked[offset : offset + limit]
        ]
        assert all(expected[r["unit"]] == r["rank"] for r in page)
        assert doc["total"] == len(ranked)
        assert [x["unit"] for x in doc["not_submitted"]] == [x["unit"] for x in others]
    finally:
        rm.close()
