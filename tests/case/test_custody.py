"""The hash-chained custody log (triage_app/case/custody.py)."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from triage_app.case import custody
from triage_app.case.migrations import run_script


@pytest.fixture
def conn():
    c = sqlite3.connect(":memory:", isolation_level=None)
    c.execute("BEGIN")
    run_script(c, custody.SCHEMA_SQL)
    c.execute("COMMIT")
    yield c
    c.close()


def _append(c, n, **kw):
    c.execute("BEGIN IMMEDIATE")
    out = [custody.append(c, actor="Ana@host", action="note_added",
                          evidence_sha256="ab" * 32, details={"i": i, **kw}) for i in range(n)]
    c.execute("COMMIT")
    return out


def test_canonical_json_is_sorted_compact_and_keeps_unicode():
    assert custody.canonical_json({"b": 1, "a": [1.5, None], "é": "ü"}) == \
        '{"a":[1.5,null],"b":1,"é":"ü"}'
    # no JSON form for NaN: it is written as a string rather than breaking the log
    assert custody.canonical_json({"x": float("nan")}) == '{"x":"nan"}'


def test_entries_chain_from_genesis_and_hash_is_recomputable(conn):
    entries = _append(conn, 3)
    assert entries[0]["prev_hash"] == "0" * 64 == custody.GENESIS
    assert [e["seq"] for e in entries] == [1, 2, 3]
    for prev, e in zip(entries, entries[1:]):
        assert e["prev_hash"] == prev["hash"]
    # an outside verifier needs nothing but hashlib and json
    row = conn.execute("SELECT seq, time, actor, action, evidence_sha256, details, prev_hash, hash"
                       " FROM custody WHERE seq = 2").fetchone()
    body = dict(zip(("seq", "time", "actor", "action", "evidence_sha256", "details",
                     "prev_hash"), row[:7]))
    assert row[5] == '{"i":1}'  # details stored as canonical JSON text
    body["details"] = json.loads(body["details"])
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == row[7]
    n, brk = custody.verify_chain(custody.read_entries(conn))
    assert (n, brk) == (3, None)


def test_update_and_delete_are_refused(conn):
    _append(conn, 2)
    with pytest.raises(sqlite3.IntegrityError, match="custody log is append-only"):
        conn.execute("UPDATE custody SET actor = 'Mallory' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="custody log is append-only"):
        conn.execute("DELETE FROM custody WHERE seq = 2")
    assert conn.execute("SELECT actor FROM custody WHERE seq = 1").fetchone()[0] == "Ana@host"
    assert conn.execute("SELECT COUNT(*) FROM custody").fetchone()[0] == 2


def test_insert_that_does_not_extend_the_chain_is_refused(conn):
    _append(conn, 2)
    with pytest.raises(sqlite3.IntegrityError, match="does not extend the chain"):
        conn.execute("INSERT INTO custody VALUES (3, 't', 'a', 'note_added', NULL, '{}', ?, ?)",
                     ("f" * 64, "e" * 64))
    with pytest.raises(sqlite3.IntegrityError, match="does not extend the chain"):
        conn.execute("INSERT INTO custody VALUES (7, 't', 'a', 'note_added', NULL, '{}', ?, ?)",
                     (custody.head(conn)[1], "e" * 64))


def test_append_needs_a_transaction_and_a_known_action(conn):
    with pytest.raises(RuntimeError):
        custody.append(conn, actor="a@h", action="note_added")
    conn.execute("BEGIN IMMEDIATE")
    with pytest.raises(ValueError):
        custody.append(conn, actor="a@h", action="evidence_deleted")
    conn.execute("ROLLBACK")


def _drop_triggers(c):
    for t in custody.TRIGGERS:
        c.execute(f"DROP TRIGGER {t}")


def test_edited_entry_is_named(conn):
    _append(conn, 5)
    _drop_triggers(conn)
    conn.execute("""UPDATE custody SET details = '{"i":99}' WHERE seq = 3""")
    assert custody.missing_triggers(conn) == list(custody.TRIGGERS)
    n, brk = custody.verify_chain(custody.read_entries(conn))
    assert brk is not None and brk.seq == 3
    assert brk.message.startswith("custody entry #3 (note_added, ")
    assert brk.message.endswith("does not match its hash: it was changed after it was written")


def test_edited_and_rehashed_entry_breaks_the_next_link(conn):
    _append(conn, 5)
    _drop_triggers(conn)
    e = custody.read_entries(conn)[1]  # seq 2
    e["details"] = {"i": 42}
    conn.execute("UPDATE custody SET details = ?, hash = ? WHERE seq = 2",
                 (custody.canonical_json(e["details"]), custody.entry_hash(e)))
    n, brk = custody.verify_chain(custody.read_entries(conn))
    assert brk is not None and brk.seq == 3
    assert "does not link to the entry before it (#2)" in brk.message


def test_removed_entries_are_detected(conn):
    _append(conn, 5)
    _drop_triggers(conn)
    conn.execute("DELETE FROM custody WHERE seq = 3")
    n, brk = custody.verify_chain(custody.read_entries(conn))
    assert brk is not None and brk.seq == 4 and "entries #3 to #3 were removed" in brk.message
    conn.execute("DELETE FROM custody WHERE seq = 1")
    n, brk = custody.verify_chain(custody.read_entries(conn))
    assert brk is not None and brk.seq == 2 and "must start at #1" in brk.message
