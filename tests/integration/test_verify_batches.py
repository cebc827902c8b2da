"""Pass 2 checks a batch of events' signatures before replaying them (shard.py,
SIGNATURE_BATCH). That is only an order of work: every forgery gets the very same
findings, details and positions, whatever the batch size, from a store and a bundle."""

from __future__ import annotations

import pytest

from application.audit import shard
from tests.forgeries import FORGERIES, Season, build_season
from tests.support import Env


def findings(season: Season) -> list[list[tuple]]:
    return [
        [(f.kind, sorted(f.position.items()), f.detail) for f in report.findings]
        for report in (season.store_report(), season.bundle_report())
    ]


@pytest.mark.parametrize("forge", [None, *FORGERIES.values()], ids=["none", *FORGERIES.keys()])
def test_the_findings_do_not_depend_on_the_signature_batch(env: Env, tmp_path, monkeypatch, forge):
    season = build_season(env, tmp_path)
    if forge is not None:
        forge(season)
    seen = []
    for size in (1, 3, shard.SIGNATURE_BATCH):
        monkeypatch.setattr(shard, "SIGNATURE_BATCH", size)
        seen.append(findings(season))
    assert seen[0] == seen[1] == seen[2]
    assert (seen[0] == [[], []]) == (forge is None)
