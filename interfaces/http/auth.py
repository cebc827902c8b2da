"""Who is asking (a signed request header) and what their key's scope lets them read.

Reads are authorized by scope, not role: a `*` key reads everything; a province
or authority key reads the cycles of its province or authority; a commune key
reads its own commune's scores, history and evidence, and the rankings of the
cycles its commune is in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request

from application.errors import NotFound
from application.signing.keys import unb64
from domain.actors import PERMISSIONS, Role
from domain.cycle import Cycle
from domain.keys import ActorKey
from interfaces.http.problems import HttpProblem
from interfaces.http.services import services
from interfaces.http.signing import MalformedHeader, parse_authorization, verify


def request_target() -> str:
    """What the signature covers as TARGET: decoded path, then the raw query."""
    target = request.script_root + request.path
    if request.query_string:
        target += "?" + request.query_string.decode("utf-8", "replace")
    return target


def signed_key() -> ActorKey:
    """The registered, active key that signed this request; 401 otherwise."""
    header = request.headers.get("Authorization")
    if not header:
        raise HttpProblem("signature_required")
    try:
        sig = parse_authorization(header)
    except MalformedHeader as e:
        raise HttpProblem("malformed_signature_header", e.vi, e.en) from None
    app = services().app
    key = app.find_key(sig.key_id, for_update=False)
    if key is None:
        raise HttpProblem("unknown_key", f"'{sig.key_id}'", f"'{sig.key_id}'")
    if not verify(
        unb64(key.public_key), sig, request.method, request_target(), request.get_data(cache=True)
    ):
        raise HttpProblem("bad_signature")
    if not key.active:
        raise HttpProblem("key_revoked", f"'{key.key_id}'", f"'{key.key_id}'")
    # Narrower than the commands' clock skew: a command replays harmlessly (its id
    # makes it idempotent), a captured read header opens data until it expires.
    skew = app.settings.request_window
    if abs(datetime.now(UTC) - sig.created_at) > skew:
        seconds = int(skew.total_seconds())
        raise HttpProblem(
            "timestamp_out_of_window", f"lệch tối đa {seconds} giây", f"at most {seconds} s allowed"
        )
    return key


def may_upload(key: ActorKey) -> None:
    if Role(key.role) not in PERMISSIONS["attach_evidence"]:
        raise HttpProblem(
            "not_permitted",
            f"vai trò {key.role} không nộp minh chứng",
            f"role {key.role} does not submit evidence",
        )


def readable_cycle(key: ActorKey, code: str) -> Cycle:
    """The cycle, if the key's scope reaches it (its ranking, its unit list)."""
    cycle = services().app.get(Cycle.create_id(code), for_update=False)
    if cycle is None:
        raise NotFound(f"kỳ đánh giá {code}", f"cycle {code}", code="cycle_not_found")
    scope = key.scope_obj
    if not (
        scope.covers(cycle.target())
        or (scope.kind == "commune" and scope.code in cycle.unit_codes())
    ):
        raise HttpProblem(
            "not_permitted", f"phạm vi {key.scope}, kỳ {code}", f"scope {key.scope}, cycle {code}"
        )
    return cycle


def readable_unit(key: ActorKey, code: str, unit: str) -> Cycle:
    """The cycle, if the key may read this unit's scores, history and evidence."""
    cycle = readable_cycle(key, code)
    if unit not in cycle.unit_codes():
        raise NotFound(
            f"đơn vị {unit} trong kỳ {code}", f"unit {unit} in {code}", code="unit_not_found"
        )
    if not key.scope_obj.covers(cycle.target(unit)):
        raise HttpProblem(
            "not_permitted",
            f"phạm vi {key.scope}, đơn vị {unit}",
            f"scope {key.scope}, unit {unit}",
        )
    return cycle
