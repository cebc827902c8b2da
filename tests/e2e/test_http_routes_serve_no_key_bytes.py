"""Every route of the app, signed and unsigned, reads and writes, is asked for the key
files, the settings and the databases by path, query and body: no response carries
a byte of them, none is a server error, and nothing is written to the log."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote, unquote, urlencode

import pytest

from application.evidence import sniff
from interfaces.http.signing import authorization
from tests.e2e.http_support import CYCLE, UNITS, Http, World, flask_client
from tests.e2e.key_files import assert_nothing_secret, fill_64, secret_needles, short_world
from tests.support import Written, command

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TARGETS = ("keys/log.key", "keys/admin.key", "parindex.json", "events.sqlite", "readmodel.sqlite")
QUERY_NAMES = (
    "position",
    "index",
    "size",
    "from",
    "to",
    "limit",
    "offset",
    "path",
    "file",
    "filename",
    "sha256",
    "name",
)
_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@pytest.fixture
def world(backend) -> Iterator[World]:
    with short_world(backend) as w:
        yield w


@pytest.fixture
def http(world) -> Iterator[Http]:
    with flask_client(world) as client:
        yield client


def aimed(world: World) -> list[str]:
    """Strings pointing at the secret files in every shape a path takes."""
    data = world.env.data_dir
    out = []
    for t in TARGETS:
        out += [f"../../../../{t}", f"../{data.name}/{t}", str(data / t), t]
    log_key = TARGETS[0]
    back, wide = log_key.replace("/", "\\"), log_key.replace("/", "\uff0f")
    out += [
        f"..\\..\\{back}",
        f"\u2024\u2024/\u2024\u2024/{log_key}",
        f"\uff0e\uff0e\uff0f{wide}",
        quote(f"../../{log_key}", safe=""),
        f"file://{data / log_key}",
    ]
    out += [
        fill_64("../", f"{data.name}/keys/log.key"),
        "..",
        "%00",
        "\x00",
        "ev-kh/../../../../keys/log.key",
    ]
    return out


def valid_args(world: World) -> Iterator[dict[str, str]]:
    """Real path values: the evidence attached before the walk, and the one each
    walking command tries to attach."""
    for evidence_id in ("ev-kh", "ev-w"):
        yield {
            "cycle": CYCLE,
            "unit": UNITS[0],
            "evidence_id": evidence_id,
            "leaf": "1.1.1",
            "framework_id": world.framework_id,
        }


def _fill_rule(rule: str, values: dict[str, str] | str) -> str:
    return _ARG.sub(
        lambda m: values if isinstance(values, str) else values.get(m.group(1), "x"), rule
    )


def urls(world: World, rule: str, values: list[str]) -> Iterator[str]:
    has_args = bool(_ARG.search(rule))
    plain = sorted({_fill_rule(rule, args) for args in valid_args(world)})
    yield from plain
    for v in values:
        if has_args:
            yield _fill_rule(rule, quote(v, safe=""))
            if v.isascii() and v.isprintable():
                yield _fill_rule(rule, quote(v, safe="/\\.:"))
        query = urlencode({name: v for name in QUERY_NAMES})
        for url in plain:
            yield f"{url}?{query}"


def _sign(key, method: str, url: str, body: bytes = b"") -> dict:
    path, sep, query = url.partition("?")
    target = unquote(path) + (sep + query if sep else "")
    return {"Authorization": authorization(key.key_id, key.private, method, target, body)}


def _reached(world: World, v: str) -> tuple[int, str | None]:
    """The size and type of the file `v` would reach as a blob name, as an attacker
    learns them from a refusal that tells; (1, "text/plain") when it reaches none."""
    try:
        path = world.app.evidence.root / v[:2] / v
        data = path.read_bytes() if path.is_file() else None
    except (OSError, ValueError):
        data = None
    return (len(data), sniff(data)) if data else (1, "text/plain")


def commands(world: World, v: str) -> Iterator[tuple[object, dict]]:
    """Signed commands carrying `v` wherever a command names a file, an id or a leaf."""
    officer, admin, unit = world.officer, world.admin, {"cycle": CYCLE, "unit": UNITS[0]}
    size, media_type = _reached(world, v)
    yield (
        officer,
        command(
            officer,
            "attach_evidence",
            **unit,
            evidence_id="ev-w",
            leaves=["1.1.1"],
            file={"sha256": v, "size": size, "media_type": media_type, "filename": "x"},
        ),
    )
    yield (
        officer,
        command(
            officer,
            "attach_evidence",
            **unit,
            evidence_id="ev-w",
            leaves=["1.1.1"],
            file={"sha256": v, "size": 1, "media_type": "text/plain", "filename": v},
        ),
    )
    yield (
        officer,
        command(
            officer,
            "attach_evidence",
            **unit,
            evidence_id=v,
            leaves=[v],
            file={"sha256": v, "size": 1, "media_type": "text/plain"},
        ),
    )
    yield officer, command(officer, "withdraw_evidence", **unit, evidence_id=v, reason="x")
    yield officer, command(officer, "record_self_score", cycle=v, unit=v, leaf=v, points="1")
    yield (
        admin,
        command(
            admin,
            "open_cycle",
            cycle=v,
            name=v,
            framework=v,
            year=2025,
            authority=v,
            province=v,
            units=[{"code": v, "name": v}],
        ),
    )


def test_no_route_gives_out_a_byte_of_the_key_files(world, http):
    officer_blob = http.client.put(
        "/api/v1/evidence/blobs",
        data=PDF,
        headers={
            "Content-Type": "application/pdf",
            **_sign(world.officer, "PUT", "/api/v1/evidence/blobs", PDF),
        },
    ).get_json()
    world.env.send(
        command(
            world.officer,
            "attach_evidence",
            cycle=CYCLE,
            unit=UNITS[0],
            evidence_id="ev-kh",
            leaves=["1.1.1"],
            file={**officer_blob, "filename": "kh.pdf"},
        ),
        world.officer,
    )
    needles = secret_needles(world)
    values = aimed(world)
    world.env.checkpoint()  # of the attachment above, before reads would issue it
    before = Written.read(world.app)
    flask = http.client.application
    asked: Counter = Counter()
    signed_refusals: Counter = Counter()

    def check(resp, what: str, signed: bool) -> None:
        assert_nothing_secret(resp, needles, what)
        asked[what.split(" ", 1)[0]] += 1
        if signed and resp.mimetype == "application/problem+json":
            signed_refusals[resp.get_json()["code"]] += 1

    rules = [r for r in flask.url_map.iter_rules()]
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                for url in urls(world, rule.rule, values):
                    check(http.client.get(url), f"GET {url}", False)
                    check(
                        http.client.get(url, headers=_sign(world.admin, "GET", url)),
                        f"GET {url} (signed)",
                        True,
                    )
            elif rule.rule == "/api/v1/commands":
                for v in values:
                    for signer, cmd in commands(world, v):
                        check(http.post(signer.sign(cmd)), f"POST {v!r}", True)
                    check(
                        http.client.post(
                            rule.rule,
                            data=json.dumps({"command": v}),
                            content_type="application/json",
                        ),
                        f"POST raw {v!r}",
                        False,
                    )
            elif rule.rule == "/api/v1/evidence/blobs":
                for v in values:
                    body = v.encode("utf-8")
                    for ctype in ("application/octet-stream", f"text/plain; name={quote(v)}"):
                        check(
                            http.client.put(
                                rule.rule,
                                data=body,
                                headers={
                                    "Content-Type": ctype,
                                    **_sign(world.officer, "PUT", rule.rule, body),
                                },
                            ),
                            f"PUT {v!r} {ctype}",
                            True,
                        )
            else:
                pytest.fail(f"a route this test does not know how to ask: {method} {rule}")

    assert set(asked) == {"GET", "POST", "PUT"}
    assert sum(asked.values()) > 1500
    # The signed requests reached the views: none was refused for its signature.
    assert not {"bad_signature", "unknown_key", "malformed_signature_header"} & set(
        signed_refusals
    ), signed_refusals
    assert Written.read(world.app) == before
