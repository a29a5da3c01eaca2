"""The SQLite file under the audit log, and the bytes its records are made of.

Every connection sets WAL with synchronous=FULL (NORMAL can lose the last commits on power loss)
and a busy timeout; writes take the write lock first (BEGIN IMMEDIATE) so concurrent writers
queue instead of forking the chain.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from forgetctl.errors import AuditError
from forgetctl_audit.migrations import migrations

GENESIS = "0" * 64  # the "prev" of record 1
KEY_RECORD = "key"  # announces a signing key (record 1: the root)
SHRED = "shred"  # a request's data key destroyed


def canonical_json(obj) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes that get hashed and signed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decode(envelope_text: str) -> dict:
    """A record's payload, unverified (forgetctl_audit.verify checks it)."""
    return json.loads(base64.b64decode(json.loads(envelope_text)["payload"]))


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def private_files(path: Path) -> None:
    """The database and its WAL files are readable by their owner only."""
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.chmod(0o600)


def connect(path: Path) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    # These reset on every connection, so every connection sets them.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA secure_delete=ON")  # shredded keys are overwritten, not left in free pages
    db = Database(conn)
    with immediate(db):
        migrations.apply(db)
    private_files(path)
    return db


def connect_readonly(path: Path) -> Database:
    """For commands that only read: works on a read-only copy of the trail too. A read-only
    folder cannot hold WAL's shared-memory file, so such a copy is opened as immutable."""
    for mode in ("ro", "ro&immutable=1"):
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=30)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("SELECT COUNT(*) FROM records").fetchone()
            return Database(conn)
        except sqlite3.OperationalError:
            conn.close()
    raise AuditError(f"the audit trail {path} cannot be read (damaged, or not a forgetctl database)")


@contextmanager
def immediate(db: Database):
    """A write transaction that holds the lock from its first statement."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")
