"""A Python client for the parindex HTTP API, on the standard library (urllib).

    from interfaces.client import Client
    c = Client("http://127.0.0.1:8080", "officer.key")
    receipt = c.send({"type": "record_self_score", "cycle": "tn-2025", "unit": "xa-01",
                      "leaf": "1.1.1", "points": "0.75"})
    c.scores("tn-2025", "xa-01")          # waits until the read model has that receipt
    c.why("tn-2025", "xa-01", "1.1.1")    # every event proven against a signed checkpoint

Commands are signed here with the key file, reads carry the signed request header
(docs/API.md). After a write, later reads pass its `position` so they see it.
`why` takes nothing the server shows on its word: it checks the checkpoint's
signature with the log key, recomputes each event's leaf hash from the logged
bytes and checks the inclusion proof; replays the proven key events and the
framework's publication from the genesis; checks each actor's signature, key
validity, role and scope; and recomputes the values with the published
framework. What it cannot see is an event the server leaves out (docs/API.md,
"What is still trusted"). Pin the log key (`log_key=` or PARINDEX_LOG_KEY);
without it the key is fetched from the server once (trust on first use).
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib import error, request
from urllib.parse import quote, urlencode, urlsplit

from application.audit import why_proof
from application.commands import sign_command, utc_now_text
from application.signing import keys
from application.transparency import merkle, note
from application.transparency.leaf import event_leaf_hash
from domain.errors import DomainError, Problem
from interfaces import why_check
from interfaces.http.signing import authorization
from interfaces.witness_quorum import Quorum, WitnessMissing

DEFAULT_URL = "http://127.0.0.1:8080"


class ApiError(DomainError):
    """An error the server answered with (a problem+json), or could not be reached."""

    def __init__(
        self,
        code: str,
        status: int,
        message: str,
        problems: list[Problem] | None = None,
        body: dict | None = None,
    ):
        super().__init__(code, message, message, problems=problems, status=status)
        self.body = body or {}


class ProofInvalid(DomainError):
    def __init__(self, what_vi: str, what_en: str):
        super().__init__(
            "proof_invalid",
            f"Bằng chứng không hợp lệ: {what_vi}",
            f"Invalid proof: {what_en}",
            status=502,
        )


def _query_value(value: Any) -> Any:
    """true/false for booleans (what the server reads), text for the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


class Client:
    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        key_file: str | os.PathLike | None = None,
        *,
        log_key: str | None = None,
        lang: str = "vi",
        timeout: float = 30.0,
        witnesses: Iterable[str] = (),
        min_witnesses: int | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.base_path = urlsplit(self.base_url).path
        self.lang = lang
        self.timeout = timeout
        self.pinned_log_key = log_key or os.environ.get("PARINDEX_LOG_KEY") or None
        # Checkpoints accepted only with K cosignatures of these witnesses (or
        # PARINDEX_WITNESSES / PARINDEX_MIN_WITNESSES): interfaces/witness_quorum.py.
        self.quorum = Quorum.of(witnesses, min_witnesses)
        self.last_position: int | None = None
        self.key_id: str | None = None
        self._private = None
        if key_file is not None:
            try:
                self.key_id, self._private, _doc = keys.load_actor_key_file(key_file)
            except (OSError, ValueError) as e:
                raise DomainError(
                    "key_file_unreadable",
                    f"Không đọc được tệp khóa: {e}",
                    f"Cannot read the key file: {e}",
                    status=400,
                ) from None

    # -- transport --------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        signed: bool = False,
        headers: dict | None = None,
    ) -> tuple[int, dict, bytes]:
        """One HTTP exchange; ApiError for any 4xx/5xx (parsed from problem+json)."""
        query = {k: v for k, v in (query or {}).items() if v is not None}
        qs = urlencode(query, doseq=True)  # a list is the parameter repeated
        target = self.base_path + path + (f"?{qs}" if qs else "")
        url = self.base_url + quote(path) + (f"?{qs}" if qs else "")
        h = {"Accept-Language": self.lang, **(headers or {})}
        if content_type:
            h["Content-Type"] = content_type
        if signed:
            if self._private is None or self.key_id is None:
                raise DomainError(
                    "key_required",
                    "Cần tệp khóa (--key) để đọc dữ liệu này.",
                    "A key file (--key) is needed for this read.",
                    status=400,
                )
            h["Authorization"] = authorization(self.key_id, self._private, method, target, body)
        req = request.Request(
            url, data=body if method in ("POST", "PUT") else None, method=method, headers=h
        )
        try:
            with request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except error.HTTPError as e:
            raise self._api_error(e.code, e.read()) from None
        except (error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ApiError(
                "connection_failed", 503, f"Không kết nối được tới {self.base_url}: {reason}"
            ) from None

    def _api_error(self, status: int, raw: bytes) -> ApiError:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = {}
        if not isinstance(body, dict):
            body = {}
        problems = [
            Problem(
                str(p.get("code", "")),
                str(p.get("message", "")),
                str(p.get("message", "")),
                field=p.get("field"),
                row=p.get("row"),
                column=p.get("column"),
            )
            for p in body.get("errors") or []
            if isinstance(p, dict)
        ]
        return ApiError(
            str(body.get("code") or f"http_{status}"),
            status,
            str(body.get("detail") or body.get("title") or f"HTTP {status}"),
            problems,
            body,
        )

    def _get(
        self, path: str, *, signed: bool = True, position: int | None = None, **query: Any
    ) -> Any:
        position = self.last_position if position is None else position
        _s, _h, raw = self.request(
            "GET", path, query={**query, "position": position}, signed=signed
        )
        return json.loads(raw.decode("utf-8"))

    # -- writes -----------------------------------------------------------------------
    def send(self, command: dict) -> dict:
        """Signs and submits one command (id, issued_at, actor filled in if absent)."""
        if self._private is None or self.key_id is None:
            raise DomainError(
                "key_required",
                "Cần tệp khóa (--key) để ký lệnh.",
                "A key file (--key) is needed to sign commands.",
                status=400,
            )
        command = {
            "id": f"cli-{uuid.uuid4()}",
            "issued_at": utc_now_text(),
            "actor": self.key_id,
            **command,
        }
        body = json.dumps(sign_command(command, self._private), ensure_ascii=False).encode()
        _s, _h, raw = self.request(
            "POST", "/api/v1/commands", body=body, content_type="application/json"
        )
        receipt = json.loads(raw.decode("utf-8"))
        self.last_position = max(self.last_position or 0, receipt["position"])
        return receipt

    def upload(self, path: str | os.PathLike) -> dict:
        """Uploads a file; returns {sha256, size, media_type} (plus filename)."""
        data = Path(path).read_bytes()
        declared = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
        _s, _h, raw = self.request(
            "PUT", "/api/v1/evidence/blobs", body=data, content_type=declared, signed=True
        )
        blob = json.loads(raw.decode("utf-8"))
        if blob.get("sha256") != hashlib.sha256(data).hexdigest() or blob.get("size") != len(data):
            raise ProofInvalid(
                "máy chủ trả về hash/kích thước khác tệp đã gửi",
                "the server reported another hash or size",
            )
        return {**blob, "filename": Path(path).name}

    # -- public reads -----------------------------------------------------------------
    def health(self) -> dict:
        return self._get("/healthz", signed=False)

    def catch_up(self) -> int:
        """Makes later reads wait for everything written so far, by anyone."""
        head = int(self.health()["log_position"])
        self.last_position = max(self.last_position or 0, head)
        return head

    def log_key(self) -> str:
        """The pinned log key, else the server's (trust on first use)."""
        if self.pinned_log_key is None:
            self.pinned_log_key = self._get("/api/v1/log/key", signed=False)["log_key"]
        return self.pinned_log_key

    def checkpoint(self) -> dict:
        """The latest checkpoint, its signature checked with the log key. With a quorum
        of witnesses, the newest served checkpoint that carries it: the latest, else the
        newest of the last page of checkpoints (the tail not yet witnessed waits);
        WitnessMissing (`witness_missing`) if none does."""
        cp = self._get("/api/v1/log/checkpoint", signed=False)
        try:
            self._open_checkpoint(cp["note"])
            return cp
        except WitnessMissing:
            total = int(self.checkpoints(limit=1)["total"])
            page = self.checkpoints(limit=100, offset=max(0, total - 100))["checkpoints"]
            for older in sorted(page, key=lambda c: -int(c["size"])):
                try:
                    self._open_checkpoint(older["note"])
                    return older
                except WitnessMissing:
                    continue
            raise

    def checkpoints(self, limit: int = 100, offset: int = 0) -> dict:
        return self._get("/api/v1/log/checkpoints", signed=False, limit=limit, offset=offset)

    def inclusion_proof(self, index: int, size: int | None = None) -> dict:
        return self._get("/api/v1/log/proof/inclusion", signed=False, index=index, size=size)

    def consistency_proof(self, first: int, second: int) -> dict:
        doc = self._get(
            "/api/v1/log/proof/consistency", signed=False, **{"from": first, "to": second}
        )
        try:
            merkle.verify_consistency(
                first,
                second,
                _b64(doc["root1"]),
                _b64(doc["root2"]),
                [_b64(h) for h in doc["hashes"]],
            )
        except (ValueError, KeyError) as e:
            raise ProofInvalid(str(e), str(e)) from None
        return doc

    def frameworks(self) -> Any:
        return self._get("/api/v1/frameworks", signed=False)

    def framework(self, framework_id: str) -> Any:
        return self._get(f"/api/v1/frameworks/{framework_id}", signed=False)

    def past_cycles(self) -> Any:
        return self._get("/api/v1/past-cycles", signed=False)

    def past_cycle(self, cycle: str) -> Any:
        return self._get(f"/api/v1/past-cycles/{quote(cycle, safe='')}", signed=False)

    # -- signed reads -----------------------------------------------------------------
    def cycles(self) -> Any:
        return self._get("/api/v1/cycles")

    def cycle(self, cycle: str) -> Any:
        return self._get(f"/api/v1/cycles/{quote(cycle, safe='')}")

    def ranking(self, cycle: str, limit: int = 100, offset: int = 0) -> Any:
        return self._get(f"/api/v1/cycles/{cycle}/ranking", limit=limit, offset=offset)

    def cycle_status(self, cycle: str, limit: int = 100, offset: int = 0) -> Any:
        """Where the cycle and each unit stand (docs/API.md, "Season status")."""
        path = f"/api/v1/cycles/{quote(cycle, safe='')}/status"
        return self._get(path, limit=limit, offset=offset)

    def unit_status(self, cycle: str, unit: str) -> Any:
        return self._get(
            f"/api/v1/cycles/{quote(cycle, safe='')}/units/{quote(unit, safe='')}/status"
        )

    # -- oversight (docs/API.md, "Oversight") -------------------------------------------
    def oversight(
        self,
        cycle: str | list[str] | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        after: int | None = None,
        **filters: Any,
    ) -> Any:
        """One page of the changes of `cycle` (or of the cycles listed, or of every
        cycle the key reaches): filters by their query names (unit, leaf, actor,
        round, kind, min_change, after_submission, after_deadline, after_approval,
        after_publication, large, large_share); decimals as text ("0.5")."""
        query = {k: _query_value(v) for k, v in filters.items() if v is not None}
        if isinstance(cycle, str):
            path = f"/api/v1/cycles/{quote(cycle, safe='')}/oversight"
        else:
            path, query["cycle"] = "/api/v1/oversight", list(cycle or [])
        return self._get(path, limit=limit, offset=offset, after=after, **query)

    def oversight_rows(self, cycle: str | list[str] | None = None, **filters: Any) -> list[dict]:
        """Every change the filters select, page by page (1,000 a page, each
        after the last row of the one before)."""
        out: list[dict] = []
        while True:
            after = out[-1]["notification_id"] if out else None
            page = self.oversight(cycle, limit=1000, after=after, **filters)
            out.extend(page["changes"])
            if not page["changes"] or len(out) >= page["total"]:
                return out

    def oversight_summary(
        self,
        cycle: str | list[str] | None = None,
        by: str = "actor",
        *,
        order: str = "key",
        limit: int = 100,
        offset: int = 0,
        as_of: str | None = None,
    ) -> Any:
        """Sums per actor, unit, leaf or area: changes, points deducted and added
        (`as_of`: of the changes up to a log index or a UTC time)."""
        if isinstance(cycle, str):
            path = f"/api/v1/cycles/{quote(cycle, safe='')}/oversight/summary"
            return self._get(path, by=by, order=order, limit=limit, offset=offset, as_of=as_of)
        return self._get(
            "/api/v1/oversight/summary",
            by=by,
            order=order,
            limit=limit,
            offset=offset,
            cycle=list(cycle or []),
            as_of=as_of,
        )

    # -- the ranking (docs/SEASON.md) ---------------------------------------------------
    def ranking_draft(self, cycle: str) -> Any:
        """The manifest propose_ranking would accept now. Checked here before a
        council chair signs it: its cycle, its digest, and that its ranks follow
        from its own totals (each unit's totals the server checks at signing)."""
        from domain import ranking

        doc = self._get(f"/api/v1/cycles/{cycle}/ranking/draft")
        content = doc["manifest"]
        ranked = content.get("ranked") or []
        again, _ = ranking.with_ranks([{k: v for k, v in x.items() if k != "rank"} for x in ranked])
        if (
            content.get("cycle") != cycle
            or content.get("version") != doc["version"]
            or ranking.digest(content) != doc["digest"]
            or again != ranked
        ):
            raise ProofInvalid(
                "bảng xếp hạng máy chủ gửi không khớp digest hoặc thứ hạng",
                "the server's draft ranking does not match its digest or its ranks",
            )
        return doc

    def rankings(self, cycle: str, *, public: bool = False, as_of: str | None = None) -> Any:
        if public:
            return self._get(f"/api/v1/public/cycles/{cycle}/rankings", signed=False, as_of=as_of)
        return self._get(f"/api/v1/cycles/{cycle}/rankings", as_of=as_of)

    def ranking_version(self, cycle: str, version: int, *, public: bool = False) -> Any:
        """One version, its manifest rebuilt from the lines and checked against the
        digest that was signed: what an approver reads is what was proposed."""
        from domain import ranking

        path = f"/cycles/{cycle}/rankings/{int(version)}"
        doc = (
            self._get("/api/v1/public" + path, signed=False)
            if public
            else self._get("/api/v1" + path)
        )
        if ranking.digest(manifest_of(doc)) != doc["digest"]:
            raise ProofInvalid(
                f"các dòng của phiên bản {version} không khớp digest đã ký",
                f"the lines of version {version} do not match the signed digest",
            )
        return doc

    def published_sheet(self, cycle: str, version: int, unit: str) -> Any:
        return self._get(
            f"/api/v1/public/cycles/{cycle}/rankings/{int(version)}/units/{unit}", signed=False
        )

    def submission(self, cycle: str, unit: str) -> Any:
        """What submitting the unit would cover now, its digest recomputed here so
        the chair signs what was shown (domain.submission), not the server's word."""
        from domain import submission

        doc = self._get(f"/api/v1/cycles/{cycle}/units/{unit}/submission")
        content = doc["content"]
        if (content.get("cycle"), content.get("unit")) != (cycle, unit) or submission.digest(
            content
        ) != doc["digest"]:
            raise ProofInvalid(
                "digest hồ sơ máy chủ gửi không khớp nội dung",
                "the server's submission digest does not match its content",
            )
        return doc

    def scores(self, cycle: str, unit: str, as_of: str | None = None) -> Any:
        """The unit's scores; `as_of` (a log index or an RFC 3339 UTC time): as they
        stood then (docs/API.md, "As of a moment")."""
        return self._get(f"/api/v1/cycles/{cycle}/units/{unit}/scores", as_of=as_of)

    def history(self, cycle: str, unit: str, leaf: str, as_of: str | None = None) -> Any:
        return self._get(f"/api/v1/cycles/{cycle}/units/{unit}/leaves/{leaf}/history", as_of=as_of)

    def evidence_list(self, cycle: str, unit: str) -> Any:
        return self._get(f"/api/v1/cycles/{cycle}/units/{unit}/evidence")

    def evidence(self, cycle: str, unit: str, evidence_id: str) -> Any:
        return self._get(f"/api/v1/cycles/{cycle}/units/{unit}/evidence/{evidence_id}")

    def download(self, cycle: str, unit: str, evidence_id: str) -> tuple[bytes, str]:
        """The file's bytes and media type, checked against the SHA-256 it is filed under."""
        item = self.evidence(cycle, unit, evidence_id)
        _s, headers, data = self.request(
            "GET",
            f"/api/v1/cycles/{cycle}/units/{unit}/evidence/{evidence_id}/file",
            query={"position": self.last_position},
            signed=True,
        )
        expected = (item.get("file") or {}).get("sha256")
        if hashlib.sha256(data).hexdigest() != expected:
            raise ProofInvalid(
                "tệp tải về không khớp sha256 đã ký",
                "the downloaded file does not match its signed sha256",
            )
        return data, headers.get("Content-Type", "")

    def why(self, cycle: str, unit: str, leaf: str) -> dict:
        """The leaf's chain of signed events, each proven in the log and its signer's
        key proven from the genesis (see verify_why), and the values shown recomputed
        from the proven commands with the leaf's rule from the proven framework
        publication (`recomputed`, with `mismatches`: every shown value the proven
        commands do not give)."""
        doc = self._get(f"/api/v1/cycles/{cycle}/units/{unit}/leaves/{leaf}/why")
        if (doc.get("cycle"), doc.get("unit"), doc.get("leaf")) != (cycle, unit, leaf):
            raise ProofInvalid(
                f"máy chủ trả lời về {doc.get('cycle')}/{doc.get('unit')}/{doc.get('leaf')}, "
                f"không phải {cycle}/{unit}/{leaf}",
                f"the server answered about {doc.get('cycle')}/{doc.get('unit')}/"
                f"{doc.get('leaf')}, not {cycle}/{unit}/{leaf}",
            )
        doc, grounds = self._verify(doc, leaf)
        nodes = grounds.framework.framework.get("nodes") or []
        node = next((n for n in nodes if isinstance(n, dict) and n.get("code") == leaf), None)
        if node is None:
            raise ProofInvalid(
                f"bộ tiêu chí đã công bố không có tiêu chí {leaf}",
                f"the published framework has no leaf {leaf}",
            )
        doc["recomputed"] = why_check.recompute(doc, node)
        return doc

    # -- the season, unit by unit (docs/SEASON.md): one method per command ------------
    def confirm(self, cycle: str, unit: str, leaf: str, note: str | None = None) -> dict:
        """confirm_score (appraiser): the leaf's self-score accepted as it stands."""
        return self.send(_season("confirm_score", cycle, unit, leaf=leaf, note=note))

    def request_explanation(self, cycle: str, unit: str, leaf: str, question: str) -> dict:
        """request_explanation (appraiser, round 1 of a two-round cycle)."""
        return self.send(_season("request_explanation", cycle, unit, leaf=leaf, question=question))

    def answer_explanation(
        self,
        cycle: str,
        unit: str,
        leaf: str,
        answer: str,
        evidence_ids: list[str] | None = None,
        **inputs: Any,
    ) -> dict:
        """answer_explanation (commune officer or chair) on a flagged leaf; `inputs`
        (points=, done=, numerator= and denominator=, as strings and booleans)
        revise the self-score."""
        return self.send(
            _season(
                "answer_explanation",
                cycle,
                unit,
                leaf=leaf,
                answer=answer,
                evidence_ids=evidence_ids,
                **inputs,
            )
        )

    def submit_explanations(self, cycle: str, unit: str) -> dict:
        """submit_explanations (commune chair): every flagged leaf answered."""
        return self.send(_season("submit_explanations", cycle, unit))

    def close_unit(self, cycle: str, unit: str, confirm: list[str] | None = None) -> dict:
        """close_appraisal naming the unit (council chair); `confirm` lists the
        leaves still needing a review, confirmed as self-scored (see `review`)."""
        return self.send(_season("close_appraisal", cycle, unit, confirm=confirm or None))

    def correct_score(
        self,
        cycle: str,
        unit: str,
        leaf: str,
        reason: str,
        evidence_ids: list[str],
        **inputs: Any,
    ) -> dict:
        """correct_score (appraiser) on a closed unit after a ranking was published."""
        return self.send(
            _season(
                "correct_score",
                cycle,
                unit,
                leaf=leaf,
                reason=reason,
                evidence_ids=evidence_ids,
                **inputs,
            )
        )

    # -- oversight notes (docs/SEASON.md, "Oversight notes") ----------------------------
    def record_oversight_note(
        self,
        cycle: str,
        unit: str,
        note_id: str,
        text: str,
        leaf: str | None = None,
        change: int | None = None,
    ) -> dict:
        """record_oversight_note (observer): on the unit, one leaf, or one change."""
        return self.send(
            _season(
                "record_oversight_note",
                cycle,
                unit,
                note_id=note_id,
                text=text,
                leaf=leaf,
                change=change,
            )
        )

    def answer_oversight_note(self, cycle: str, unit: str, note_id: str, answer: str) -> dict:
        """answer_oversight_note (council chair): one answer per note."""
        return self.send(
            _season("answer_oversight_note", cycle, unit, note_id=note_id, answer=answer)
        )

    # -- improvement plans (docs/SEASON.md, "Improvement plans") ----------------------
    def record_improvement_plan(
        self, cycle: str, unit: str, plan_year: int, items: list[dict]
    ) -> dict:
        """record_improvement_plan (commune chair), once the cycle is published."""
        return self.send(
            _season("record_improvement_plan", cycle, unit, plan_year=plan_year, items=items)
        )

    def improvement_plan(self, cycle: str, unit: str) -> Any:
        """{cycle, unit, year, published, submitted, draft, plans}."""
        from domain.ids import CODE, check_id

        check_id(cycle, "cycle", CODE)
        check_id(unit, "unit", CODE)
        return self._get(f"/api/v1/cycles/{cycle}/units/{unit}/improvement-plan")

    def notes(self, cycle: str, unit: str, as_of: str | None = None) -> Any:
        """{cycle, unit, open, notes}: the unit's oversight notes and answers."""
        from domain.ids import CODE, check_id

        check_id(cycle, "cycle", CODE)
        check_id(unit, "unit", CODE)
        return self._get(f"/api/v1/cycles/{cycle}/units/{unit}/notes", as_of=as_of)

    def unit_events(self, cycle: str, unit: str, after: int = 0, limit: int = 200) -> Any:
        """{cycle, unit, aggregate_id, events, signers}: the unit's events after
        version `after`, exact stored bytes (interfaces/monitor.py checks them)."""
        from domain.ids import CODE, check_id

        check_id(cycle, "cycle", CODE)
        check_id(unit, "unit", CODE)
        return self._get(f"/api/v1/cycles/{cycle}/units/{unit}/events", after=after, limit=limit)

    def review(self, cycle: str, unit: str) -> Any:
        """{cycle, unit, stage, needs_review, flags}: what the unit's close must
        still review or list, as the server will judge it."""
        from domain.ids import CODE, check_id

        check_id(cycle, "cycle", CODE)  # both go into the path: nothing else may
        check_id(unit, "unit", CODE)
        doc = self._get(f"/api/v1/cycles/{cycle}/units/{unit}/review")
        if (doc.get("cycle"), doc.get("unit")) != (cycle, unit):
            raise ProofInvalid(
                f"máy chủ trả lời về {doc.get('cycle')}/{doc.get('unit')}, "
                f"không phải {cycle}/{unit}",
                f"the server answered about {doc.get('cycle')}/{doc.get('unit')}, "
                f"not {cycle}/{unit}",
            )
        return doc

    # -- local verification -----------------------------------------------------------
    def _open_checkpoint(self, text: str) -> note.Checkpoint:
        try:
            opened = note.open_note(text, [self.log_key()])
            cp = note.parse_checkpoint(opened.text)
            if self.quorum.minimum:
                self.quorum.check(text, self.log_key(), cp.size)
            return cp
        except ValueError as e:
            raise ProofInvalid(f"điểm kiểm tra: {e}", f"checkpoint: {e}") from None

    def verify_why(self, doc: dict, leaf: str) -> dict:
        """Checks a why document with nothing but the log key (docs/API.md, "Checking
        `why` without trusting the server"): the checkpoint's signature; for every
        event of `grounds` and of `chain`, the leaf hash recomputed from the logged
        bytes and the inclusion proof to the checkpoint's root; the grounds replayed
        from the genesis (keys, the framework's publication, the cycle's opening:
        application.audit.why_proof); each chain command's actor signature with its
        key as proven, the key valid at that leaf and permitted by role and scope.
        Adds `verified` and `signed_command` to each chain event, and `proven`
        (genesis, framework, cycle, signers) to the document.

        Raises ProofInvalid, naming the leaf, on the first thing that does not hold."""
        return self._verify(doc, leaf)[0]

    def _verify(self, doc: dict, leaf: str) -> tuple[dict, why_proof.Grounds]:
        cp = self._open_checkpoint(doc["checkpoint"]["note"])
        records = [_proven_record(g, cp) for g in doc.get("grounds") or []]
        grounds = _checked(lambda: why_proof.check_grounds(records, doc["cycle"], self.log_key()))
        signers = {}
        for e in doc["chain"]:
            record = _proven_record(e, cp)
            command = _checked(lambda r=record: why_proof.check_step(grounds, r, doc["unit"]))
            if not _touches(command, leaf):
                raise ProofInvalid(
                    f"sự kiện ở vị trí {record[0]} không thuộc tiêu chí {leaf}",
                    f"event at index {record[0]} is not about leaf {leaf}",
                )
            key = grounds.view.keys[command["actor"]]
            signers[key.key_id] = {
                "role": key.role,
                "scope": key.scope,
                "registered_leaf": key.registered,
                "stopped_leaf": key.stopped,
            }
            e["signed_command"] = command
            e["verified"] = True
        record = grounds.framework
        doc["proven"] = {
            "genesis_leaf": 0,
            "cycle": {"cycle": grounds.cycle.cycle, "leaf_index": grounds.cycle_leaf},
            "framework": {
                "framework_id": record.framework_id,
                "digest": record.digest,
                "leaf_index": grounds.framework_leaf,
            },
            "signers": signers,
        }
        doc["verified"] = True
        return doc, grounds


def _season(type_: str, cycle: str, unit: str, **fields: Any) -> dict:
    """A unit's season command; fields given as None are left out (not signed)."""
    command = {"type": type_, "id": str(uuid.uuid4()), "cycle": cycle, "unit": unit}
    command.update({k: v for k, v in fields.items() if v is not None})
    return command


def _proven_record(e: dict, cp: note.Checkpoint) -> why_proof.Record:
    """(index, originator id hex, version, topic, state) of an event whose leaf hash
    and inclusion proof to the checkpoint hold; ProofInvalid otherwise."""
    index = e.get("leaf_index") if isinstance(e, dict) else None
    try:
        proof, logged = e.get("proof"), e.get("logged")
        if proof is None or logged is None or index is None:
            raise ValueError("no proof given")
        state = _b64(logged["state"])
        computed = event_leaf_hash(
            logged["originator_id"], int(logged["version"]), logged["topic"], state
        )
        if computed != _b64(proof["leaf_hash"]) or proof["leaf_index"] != index:
            raise ValueError("leaf hash differs from the logged event")
        if proof["tree_size"] != cp.size:
            raise ValueError("proof is not against the signed checkpoint")
        merkle.verify_inclusion(
            computed, index, cp.size, [_b64(h) for h in proof["hashes"]], cp.root
        )
        oid = uuid.UUID(str(logged["originator_id"])).hex
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ProofInvalid(
            f"sự kiện ở vị trí {index}: {err}", f"event at index {index}: {err}"
        ) from None
    return index, oid, int(logged["version"]), logged["topic"], state


def _checked(check):
    """Runs a why_proof check; what does not hold becomes ProofInvalid naming the leaf."""
    try:
        return check()
    except why_proof.Unproven as e:
        vi, en = e.messages()
        where_vi = "" if e.index is None else f"sự kiện ở vị trí {e.index}: "
        where_en = "" if e.index is None else f"event at index {e.index}: "
        raise ProofInvalid(where_vi + vi, where_en + en) from None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ProofInvalid(f"không kiểm tra được ({e})", f"cannot be checked ({e})") from None


def _touches(command: dict, leaf: str) -> bool:
    """A signed command is about `leaf` if it names it (or names no leaf at all)."""
    if "leaf" in command:
        return command["leaf"] == leaf
    if "leaves" in command:
        return leaf in (command["leaves"] or [])
    return True


def manifest_of(doc: dict) -> dict:
    """The manifest a council chair signed, rebuilt from a version's lines as the
    API serves them (docs/API.md, "Rankings")."""

    def line(x: dict) -> dict:
        out = {"unit": x["unit"], "name": x["name"]}
        if x.get("type") is not None:
            out["type"] = x["type"]
        out["status"] = x["status"]
        if x["status"] == "submitted":
            for k in ("self_total", "appraised_total", "index", "band", "rank"):
                out[k] = x.get(k)
        elif x["status"] == "merged":
            out["into"] = x.get("into")
        return out

    return {
        "cycle": doc["cycle"],
        "version": doc["version"],
        "framework": doc.get("framework"),
        "ranked": [line(x) for x in doc.get("ranked") or []],
        "unranked": [line(x) for x in doc.get("unranked") or []],
    }
