"""A log large enough for the parallel verifier (workers read their own ranges
of leaves) reports exactly what the single-process verifier reports."""

from __future__ import annotations

import pytest

from application.audit.bundle import StoreSource
from application.audit.verify import INLINE_BELOW, verify
from application.commands import parse_envelope
from domain.keys import ActorKey
from tests.support import (
    delete_event,
    event_row,
    make_env,
    new_key,
    register_command,
    set_event_state,
)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    env = make_env(tmp_path_factory.mktemp("big"), None)
    batch = []
    for _ in range(INLINE_BELOW + 500):
        key = new_key()
        signed = parse_envelope(env.admin.sign(register_command(env.admin, key)))
        batch.append(
            ActorKey(
                key_id=key.key_id,
                public_key=key.public_key,
                role="observer",
                scope="*",
                display_name="Nguyễn Văn An",
                signed=signed.stored(),
            )
        )
        if len(batch) == 1000:
            env.app.save(*batch, command_id=f"batch-{len(batch)}-{key.key_id}")
            batch = []
    env.app.save(*batch, command_id="last-batch")
    env.checkpoint()
    yield env
    env.app.close()


def kinds(report):
    return [(f.kind, f.position) for f in report.findings]


def test_a_clean_large_log_verifies_in_parallel(big):
    report = verify(StoreSource(big.app.tlog), log_key=big.log_key, workers=2)
    assert report.ok and report.events_checked == big.app.tlog.size()


def test_parallel_and_single_process_verify_name_the_same_tampering(big):
    _, _, _, state = event_row(big.app, 3000)
    set_event_state(big.app, 3000, state.replace(b"observer", b"admin\x00\x00\x00", 1))
    delete_event(big.app, 4200)
    parallel = verify(StoreSource(big.app.tlog), log_key=big.log_key, workers=2)
    single = verify(StoreSource(big.app.tlog), log_key=big.log_key, workers=1)
    assert kinds(parallel) == kinds(single)
    assert ("event_altered", {"leaf_index": 3000}) in kinds(parallel)
    assert ("event_missing", {"leaf_index": 4200}) in kinds(parallel)


def test_a_damaged_leaf_row_is_a_finding_not_a_crash(tmp_path):
    from tests.support import sql

    env = make_env(tmp_path, None)
    env.register("observer", "*")
    sql(
        env.app,
        f"UPDATE {env.app.tlog.t.leaves} SET originator_id = 'not-hex' WHERE leaf_index = 2",
    )
    report = verify(StoreSource(env.app.tlog), log_key=env.log_key, workers=1)
    # Leaf 2 now points at no stored event, and that event stands outside the log.
    assert [f.kind for f in report.findings] == ["event_missing", "event_inserted"]
    assert report.findings[0].position == {"leaf_index": 2}
    env.app.close()
