"""Schemathesis against the spec served by a real `parindex serve` on 127.0.0.1.

Every operation gets a bounded number of generated requests (valid and invalid),
signed by an observer key so the signed reads are reached too; no answer may be
a 5xx or break the spec (status, content type, headers, body schema).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import pytest

schemathesis = pytest.importorskip("schemathesis")
requests = pytest.importorskip("requests")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from interfaces.http.signing import authorization  # noqa: E402
from tests.e2e.http_support import CYCLE, UNITS, Served, World, make_world  # noqa: E402
from tests.support import Key, command  # noqa: E402

EXAMPLES_PER_OPERATION = 25
PDF = b"%PDF-1.4\n% Ke hoach\ntrailer <<>>\n%%EOF\n"
BUDGET_SECONDS = 50


class SignedRequests(requests.auth.AuthBase):
    """Signs each request exactly as it goes out (docs/API.md)."""

    def __init__(self, key: Key):
        self.key = key

    def __call__(self, r):
        parts = urlsplit(r.url)
        target = unquote(parts.path) + (f"?{parts.query}" if parts.query else "")
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        r.headers["Authorization"] = authorization(self.key.key_id, self.key.private,
                                                   r.method, target, body)
        return r


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[World, Served]]:
    world = make_world(tmp_path_factory.mktemp("schemathesis"))
    world.env.send(command(world.officer, "record_self_score", cycle=CYCLE, unit=UNITS[0],
                           leaf="1.1.1", points="1"), world.officer)
    world.env.send(command(world.officer, "attach_evidence", cycle=CYCLE, unit=UNITS[0],
                           evidence_id="ev-1", leaves=["1.1.1"],
                           document={"number": "15/KH-UBND"}), world.officer)
    blob = world.app.evidence.put(PDF, "application/pdf")
    world.env.send(command(world.officer, "attach_evidence", cycle=CYCLE, unit=UNITS[0],
                           evidence_id="ev-2", leaves=["1.1.1"],
                           file={**blob, "filename": "kh.pdf"}), world.officer)
    server = Served(world.env.data_dir, workers=2)
    try:
        yield world, server
    finally:
        server.stop()
        world.env.app.close()


def generated_requests(operation, url: str, signer: SignedRequests):
    """A hypothesis test sending EXAMPLES_PER_OPERATION generated requests."""
    skip = excluded(operation)

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        case.call_and_validate(base_url=url, auth=signer, excluded_checks=skip)

    return check


def excluded(operation) -> list:
    """An upload's schema can say "bytes of this type" but not "a real PDF": random bytes
    declared application/pdf are rightly refused (415), so "valid data is accepted"
    cannot hold for it."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    return [positive_data_acceptance] if operation.method.upper() == "PUT" else []


def real_case(operation, world: World):
    """The operation with values that exist in the deployment (None for POST/PUT)."""
    if operation.method.upper() != "GET":
        return None
    names = {"cycle": CYCLE, "unit": UNITS[0], "leaf": "1.1.1", "evidence_id": "ev-2",
             "framework_id": world.framework_id}
    path = {k: v for k, v in names.items() if "{" + k + "}" in operation.path}
    query = {"/api/v1/log/proof/inclusion": {"index": 0},
             "/api/v1/log/proof/consistency": {"from": 1, "to": 2}}.get(operation.path, {})
    return operation.Case(path_parameters=path, query=query)


@pytest.mark.slow
def test_no_generated_request_gets_a_5xx_or_an_answer_outside_the_spec(served):
    world, server = served
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    # Passed as the transport's `auth`, so schemathesis knows it and strips it for its
    # own probes (unsigned, wrongly signed): those must get 401.
    observer = SignedRequests(world.key("observer", "*"))
    uploader = SignedRequests(world.officer)  # observers never upload
    started = time.monotonic()
    failures: list[str] = []
    operations = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        signer = uploader if operation.method.upper() == "PUT" else observer
        check = generated_requests(operation, server.url, signer)
        try:
            check()
            real = real_case(operation, world)  # what a real client asks, answered for real
            if real is not None:
                response = real.call_and_validate(base_url=server.url, auth=signer)
                assert response.status_code == 200, (operation.label, response.text)
        except Exception as e:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {e}")
        assert time.monotonic() - started < BUDGET_SECONDS, "schemathesis run over budget"

    assert operations >= 18
    assert not failures, "\n\n".join(failures)
