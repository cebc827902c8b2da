"""Schemathesis against the spec served by a real `parindex serve` on 127.0.0.1.

Every operation gets generated requests, valid and invalid (schemathesis's
positive and negative modes), each checked by every check schemathesis has (the
`--checks all` of its command line): no answer may be a 5xx or break the spec
(status, content type, headers, body schema), invalid data must be refused,
and so on. Once signed by a registered key (a hook that signs each request as it
goes out, so the signed reads are reached too), once unsigned. The default suite
sends EXAMPLES requests per operation and mode; the `slow` run (`.ci/run`) sends
SLOW_EXAMPLES.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import pytest

from interfaces.bundled import load_bundled

schemathesis = pytest.importorskip("schemathesis")
requests = pytest.importorskip("requests")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import CHECKS, load_all_checks  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

from interfaces.http.signing import authorization  # noqa: E402
from tests.e2e.http_support import CYCLE, UNITS, Served, World, make_world  # noqa: E402

RANKED = "tn-ranked"  # a cycle whose ranking is published
PAST = "tn-2024"  # a past cycle imported from its published table
PLANNED = "tn-planned"  # published, with xa-01 submitted: its improvement plan
from domain.assessment import Assessment  # noqa: E402
from tests.support import Key, command  # noqa: E402

EXAMPLES = 25
SLOW_EXAMPLES = 200
PDF = b"%PDF-1.4\n% Ke hoach\ntrailer <<>>\n%%EOF\n"


def all_checks() -> list:
    load_all_checks()
    return list(CHECKS.get_all())


class SignedRequests(requests.auth.AuthBase):
    """Signs each request exactly as it goes out (docs/API.md), in place of the header
    value schemathesis generated; a request generated without the header (the negative
    mode's "missing required header") goes out unsigned, as generated."""

    def __init__(self, key: Key):
        self.key = key

    def __call__(self, r):
        if "Authorization" not in r.headers:
            return r
        parts = urlsplit(r.url)
        target = unquote(parts.path) + (f"?{parts.query}" if parts.query else "")
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        r.headers["Authorization"] = authorization(
            self.key.key_id, self.key.private, r.method, target, body
        )
        return r


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[World, Served]]:
    world = make_world(tmp_path_factory.mktemp("schemathesis"))
    world.env.send(
        command(
            world.officer, "record_self_score", cycle=CYCLE, unit=UNITS[0], leaf="1.1.1", points="1"
        ),
        world.officer,
    )
    # Every other leaf scored too, so the unit's submission preview answers 200.
    for leaf in load_bundled("thai-nguyen-2021-commune").leaves[1:]:
        world.env.send(
            command(
                world.officer,
                "record_self_score",
                cycle=CYCLE,
                unit=UNITS[0],
                leaf=leaf.code,
                points="0",
            ),
            world.officer,
        )
    world.env.send(
        command(
            world.officer,
            "attach_evidence",
            cycle=CYCLE,
            unit=UNITS[0],
            evidence_id="ev-1",
            leaves=["1.1.1"],
            document={"number": "15/KH-UBND"},
        ),
        world.officer,
    )
    blob = world.app.evidence.put(PDF, "application/pdf")
    world.env.send(
        command(
            world.officer,
            "attach_evidence",
            cycle=CYCLE,
            unit=UNITS[0],
            evidence_id="ev-2",
            leaves=["1.1.1"],
            file={**blob, "filename": "kh.pdf"},
        ),
        world.officer,
    )
    world.cycle_up_to(RANKED)  # a published ranking for the ranking reads
    world.cycle_up_to(PLANNED, "open")
    chair = world.key("commune_chair", f"commune:{UNITS[0]}")
    world.env.submit_unit(UNITS[0], world.officer, chair, cycle=PLANNED)
    council = world.key("council_chair", "*")
    unit = world.app.get(Assessment.create_id(PLANNED, UNITS[0]), for_update=False)
    confirm = unit.needs_review(world.app.framework(world.framework_id))
    world.env.send(
        command(council, "close_appraisal", cycle=PLANNED, unit=UNITS[0], confirm=confirm), council
    )
    world.env.season_end(PLANNED, council, world.key("approver", "*"))
    # a past year imported and linked, so the reads carry their `previous` figures
    past = {
        "cycle": PAST,
        "name": "Kết quả năm 2024",
        "year": 2024,
        "source": {"file_name": "PL2-2024.xlsx", "sha256": "5e" * 32},
        "units": [{"unit": UNITS[0], "name": "Xã 01", "total": "80.5", "rank": 1}],
    }
    world.env.send(command(world.admin, "import_past_results", **past))
    for cycle in (CYCLE, RANKED):
        link = {"cycle": cycle, "previous": PAST, "reason": "So sánh với năm 2024"}
        world.env.send(command(world.admin, "link_previous_cycle", **link))
    server = Served(world.env.data_dir, workers=2)
    try:
        yield world, server
    finally:
        server.stop()
        world.env.app.close()


def generated_requests(operation, url: str, signer, examples: int):
    """A hypothesis test sending `examples` generated requests, valid and invalid."""
    skip = excluded(operation)
    checks = all_checks()
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        case.call_and_validate(base_url=url, auth=signer, checks=checks, excluded_checks=skip)

    return check


def excluded(operation) -> list:
    """An upload's schema can say "bytes of this type" but not "a real PDF": random bytes
    declared application/pdf are rightly refused (415), so "valid data is accepted"
    cannot hold for it."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    return [positive_data_acceptance] if operation.method.upper() == "PUT" else []


def signed_operation(operation) -> bool:
    return bool(operation.definition.raw.get("security"))


def real_case(operation, world: World):
    """The operation with values that exist in the deployment (None for POST/PUT)."""
    if operation.method.upper() != "GET":
        return None
    names = {
        "cycle": CYCLE,
        "unit": UNITS[0],
        "leaf": "1.1.1",
        "evidence_id": "ev-2",
        "framework_id": world.framework_id,
    }
    if "/ranking" in operation.path:
        names.update(cycle=RANKED, version=1)
    if "improvement-plan" in operation.path:
        names.update(cycle=PLANNED)
    if "/past-cycles" in operation.path:
        names.update(cycle=PAST)
    path = {k: v for k, v in names.items() if "{" + k + "}" in operation.path}
    query = {
        "/api/v1/log/proof/inclusion": {"index": 0},
        "/api/v1/log/proof/consistency": {"from": 1, "to": 2},
    }.get(operation.path, {})
    # A header for the signer to replace, as in every generated valid request.
    return operation.Case(path_parameters=path, query=query, headers={"Authorization": "-"})


def run(world: World, server: Served, examples: int, signed: bool) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    # The server's own refusals of a request too long or too slow to be one (a
    # generated path of 5,000 characters gets 414) are rejections too.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "408", "413", "414", "431"]
    # Passed as the transport's `auth`, so schemathesis knows it and strips it for its
    # own probes (unsigned, wrongly signed): those must get 401.
    observer = SignedRequests(world.key("observer", "*")) if signed else None
    uploader = SignedRequests(world.officer) if signed else None  # observers never upload
    failures: list[str] = []
    operations = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        signer = uploader if operation.method.upper() == "PUT" else observer
        check = generated_requests(operation, server.url, signer, examples)
        try:
            check()
            real = real_case(operation, world)  # what a real client asks, answered for real
            if real is not None:
                response = real.call_and_validate(
                    base_url=server.url, auth=signer, checks=all_checks()
                )
                want = 401 if signer is None and signed_operation(operation) else 200
                assert response.status_code == want, (operation.label, response.text)
        except Exception as e:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {e}")

    assert operations >= 18
    assert not failures, "\n\n".join(failures) + f"\n\nserver log:\n{server.log_tail()}"


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_no_generated_request_gets_a_5xx_or_an_answer_outside_the_spec(served, signed):
    run(*served, EXAMPLES, signed)


@pytest.mark.slow
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_two_hundred_generated_requests_per_operation_find_no_server_error(served, signed):
    run(*served, SLOW_EXAMPLES, signed)
