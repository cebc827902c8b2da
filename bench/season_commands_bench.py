"""Per-unit season commands against scoring commands, side by side in one run.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/season_commands_bench.py            # 40 units
    .venv/bin/python bench/season_commands_bench.py --units 10 # smoke run

One fresh deployment on the embedded default (SQLite file in a temporary
directory): the bundled framework, a cycle of N units with a schedule, one key
per role. Every unit then goes through its season, each command pre-signed
(signing is the client's cost) and timed around ``ParIndex.handle`` alone:
119 self-scores, the submission, 5 adjustments, 5 confirmations, 2 explanation
requests, 2 answers (one with a revised score), the explanations' submission,
2 round-2 re-appraisals and the unit's close. Prints the median and p90 per
command type and each median's ratio to ``record_self_score``'s (issue 8:
"season commands cost what scoring commands cost").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import cpu_model  # bench/ is the script's own directory

REPO = Path(__file__).resolve().parent.parent
CYCLE = "bench"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=40)
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from application.commands import sign_command, utc_now_text
    from application.deployment import init_deployment, open_app
    from application.signing import keys
    from domain import submission
    from domain.assessment import Assessment
    from domain.framework import to_dict
    from interfaces.bundled import load_bundled

    times: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        info = init_deployment(Path(tmp) / "data", origin="bench.parindex.local/season-cmds")
        admin_id, admin, _ = keys.load_actor_key_file(info["admin_key_file"])
        app = open_app(Path(tmp) / "data")
        framework = load_bundled("thai-nguyen-2021-commune")
        people: dict[str, tuple[str, Any]] = {"admin": (admin_id, admin)}

        def send(who: str, timed: bool = True, **command: Any) -> dict:
            key_id, private = people[who]
            envelope = {"id": f"b-{uuid.uuid4()}", "issued_at": utc_now_text(), "actor": key_id}
            signed = sign_command({**envelope, **command}, private)
            t0 = time.perf_counter()
            receipt = app.handle(signed)
            if timed:
                times[command["type"]].append(time.perf_counter() - t0)
            return receipt

        due = datetime.now(UTC) + timedelta(days=1)
        send("admin", False, type="publish_framework", framework=to_dict(framework))
        units = [f"xa-{u:03d}" for u in range(args.units)]
        send(
            "admin",
            False,
            type="open_cycle",
            cycle=CYCLE,
            name="Bench",
            framework=str(framework.id),
            year=2025,
            authority="bench",
            province="bench",
            units=[{"code": u, "name": f"Xã {u}"} for u in units],
            deadlines={"self_assessment_due": due.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        for role in ("commune_officer", "commune_chair", "appraiser", "council_chair"):
            private = keys.generate()
            public = keys.public_raw(private)
            people[role] = (keys.actor_key_id(public), private)
            send(
                "admin",
                False,
                type="register_key",
                key_id=people[role][0],
                public_key=keys.b64(public),
                role=role,
                scope="*",
                display_name=role,
            )
        leaves = [lf.code for lf in framework.leaves]
        for unit in units:
            where = {"cycle": CYCLE, "unit": unit}
            for leaf in leaves:
                send("commune_officer", type="record_self_score", **where, leaf=leaf, points="0")
            assessment = app.get(Assessment.create_id(CYCLE, unit), for_update=False)
            covered = assessment.submission(framework)
            send(
                "commune_chair",
                type="submit_assessment",
                **where,
                digest=submission.digest(covered),
                self_total=covered["self_total"],
            )
            for leaf in leaves[:5]:
                send("appraiser", type="adjust_score", **where, leaf=leaf, points="0", reason="x")
            for leaf in leaves[5:10]:
                send("appraiser", type="confirm_score", **where, leaf=leaf)
            flagged = leaves[10:12]
            for leaf in flagged:
                send("appraiser", type="request_explanation", **where, leaf=leaf, question="?")
            send("commune_officer", type="answer_explanation", **where, leaf=flagged[0], answer="a")
            send(
                "commune_officer",
                type="answer_explanation",
                **where,
                leaf=flagged[1],
                answer="b",
                points="0",
            )
            send("commune_chair", type="submit_explanations", **where)
            for leaf in flagged:
                send("appraiser", type="adjust_score", **where, leaf=leaf, points="0", reason="r2")
            rest = app.get(Assessment.create_id(CYCLE, unit), for_update=False).needs_review(
                framework
            )
            send("council_chair", type="close_appraisal", **where, confirm=rest)
        app.close()

    base = statistics.median(times["record_self_score"])
    print(f"machine: {cpu_model()}; {args.units} units, one SQLite store, handle() only")
    print(f"{'command':<22} {'n':>6} {'median ms':>10} {'p90 ms':>8} {'÷ self-score':>13}")
    for kind, values in times.items():
        values.sort()
        median = statistics.median(values)
        p90 = values[int(0.9 * (len(values) - 1))]
        print(
            f"{kind:<22} {len(values):>6} {median * 1000:>10.2f} {p90 * 1000:>8.2f} "
            f"{median / base:>13.2f}"
        )


if __name__ == "__main__":
    main()
