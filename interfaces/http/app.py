"""The HTTP app factory: one ParIndex app and one read-model follower per process."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from application.deployment import open_app
from interfaces.http import bodies, limits, problems, witness_asking
from interfaces.http.api import ParindexApi
from interfaces.http.schemas import COMMAND_VALUE_SCHEMA
from interfaces.http.services import EXTENSION, Services
from interfaces.http.views import (
    commands,
    cycles,
    documents,
    evidence,
    frameworks,
    health,
    log,
    notes,
    oversight,
    past_cycles,
    plans,
    rankings,
    reviews,
    unit_events,
)

READ_MODEL_FILE = "readmodel.sqlite"
BLUEPRINTS = (
    commands.blp,
    evidence.blp,
    log.blp,
    frameworks.blp,
    cycles.blp,
    past_cycles.blp,
    reviews.blp,
    notes.blp,
    plans.blp,
    unit_events.blp,
    rankings.blp,
    rankings.public,
    documents.blp,
    oversight.blp,
    health.blp,
)

SIGNATURE_SCHEME = {
    "type": "apiKey",
    "in": "header",
    "name": "Authorization",
    "description": 'Parindex-Sig keyId="pk_...", created="<RFC 3339 UTC>", '
    'signature="<base64 Ed25519>" — see docs/API.md',
}


def create_app(
    data_dir: str | Path,
    *,
    follow: bool = True,
    read_wait: float = 5.0,
    read_model_path: str | Path | None = None,
    rollback_check_interval: float = 1.0,
    witness_interval: float | None = None,
) -> Flask:
    """The WSGI app on an initialised data directory.

    With `follow`, a background thread keeps the read model (DIR/readmodel.sqlite)
    following the log; without, each read catches up inline first (tests, tools).
    Every request but the log's and /healthz is refused (503) while the read model
    is ahead of the log (projections.rollback; checked at most once per
    `rollback_check_interval` seconds). With `follow` and witnesses configured, a
    background thread asks them to cosign (witness_asking.py; every
    `witness_interval` seconds, 0 never, default 300).
    """
    from projections.follower import Follower
    from projections.queries import Queries
    from projections.rollback import Guard
    from projections.store import ReadModel

    app = open_app(data_dir)
    read_model = ReadModel(str(read_model_path or Path(data_dir) / READ_MODEL_FILE))
    guard = Guard(app, read_model, rollback_check_interval)
    follower = Follower(app, read_model, guard=guard)
    if follow:
        # One follower per read-model file: the server's workers share it.
        follower.start(leader_lock=read_model.path + ".follow.lock")

    # No static folder: the API serves no files but evidence blobs.
    flask = Flask("parindex", static_folder=None)
    flask.json.ensure_ascii = False  # type: ignore[attr-defined]
    flask.config.update(
        API_TITLE="parindex",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        # A backstop only: interfaces/http/bodies.py bounds each body by its route.
        MAX_CONTENT_LENGTH=max(app.settings.max_evidence_bytes, app.settings.max_request_bytes),
    )
    queries = Queries(read_model)
    asker = None
    if follow and app.settings.witnesses:
        asker = witness_asking.WitnessAsker(
            app,
            data_dir,
            lambda: witness_asking.deadlines_of(queries),
            300.0 if witness_interval is None else witness_interval,
        )
        asker.start(leader_lock=read_model.path + ".witness.lock")
    flask.extensions[EXTENSION] = Services(
        app, read_model, queries, follower, follow, read_wait, guard, asker
    )
    flask.before_request(_refuse_when_rolled_back)
    api = ParindexApi(
        flask,
        spec_kwargs={
            "info": {
                "description": (
                    "Chỉ số CCHC: lệnh có chữ ký, nhật ký minh bạch. Lỗi theo RFC 9457 "
                    "(application/problem+json); tiếng Việt mặc định, "
                    "tiếng Anh với Accept-Language: en."
                )
            }
        },
    )
    api.spec.components.security_scheme("ParindexSig", SIGNATURE_SCHEME)
    api.spec.components.schema("CommandValue", COMMAND_VALUE_SCHEMA)
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    flask.before_request(bodies.read_bounded_body)
    problems.install(flask)
    limits.install(flask)
    return flask


# Served whatever the read model says: the log itself (what an auditor needs to see
# what happened), liveness, and the API description.
UNGUARDED = ("log.", "health.", "api-docs.")


def _refuse_when_rolled_back() -> None:
    from flask import request

    from domain.errors import DomainError
    from interfaces.http.services import services

    if (request.endpoint or "").startswith(UNGUARDED):
        return
    rollback = services().guard.status()
    if rollback is not None:
        raise DomainError(rollback.code, rollback.message("vi"), rollback.message("en"), status=503)


def services_of(flask: Flask) -> Services:
    return flask.extensions[EXTENSION]
