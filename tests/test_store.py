"""The store on real SQLite and PostgreSQL: migrations, exactly-once batches, time zones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from interviewd.domain import Address, BulkSignals, ParsedMessage
from interviewd.errors import StoreError
from interviewd.store import IncomingMessage, Store, database_url, default_database_path
from interviewd.store.db import _alembic_config, create_db_engine, current_revision, head_revision
from interviewd.store.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Store:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/t.db"
    else:
        url = request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:10]}")
    s = Store(url)
    yield s
    s.close()


def parsed(mid: str, subject: str = "Interview", when: datetime | None = None) -> ParsedMessage:
    return ParsedMessage(
        message_id=mid,
        subject=subject,
        sender=Address("Dana Whitfield", "dana@larkspur.example"),
        to=(Address("", "me@example.net"),),
        cc=(),
        reply_to=(),
        date=when or datetime(2026, 11, 2, 15, 0, tzinfo=timezone(timedelta(hours=-5))),
        in_reply_to="",
        references=(),
        bulk=BulkSignals(),
        text="Hello",
        new_text="Hello",
        quoted_text="",
        signature="",
    )


def item(mid: str, uid: int, folder: str = "INBOX", uidvalidity: int = 7) -> IncomingMessage:
    return IncomingMessage(
        identity=f"mid:{mid}",
        account="a",
        folder=folder,
        key=f"{uidvalidity}/{uid}",
        uidvalidity=uidvalidity,
        uid=uid,
        parsed=parsed(mid),
    )


def test_migrations_match_the_models(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], "add an Alembic migration for the model change"
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()


def test_a_batch_is_stored_once_with_its_high_water_mark(store):
    batch = [item("m1", 1), item("m2", 2), item("m3", 3)]
    first = store.save_batch(batch, account="a", folder="INBOX", uidvalidity=7, highest_uid=3)
    assert (first.stored, first.located) == (3, 0)
    again = store.save_batch(batch, account="a", folder="INBOX", uidvalidity=7, highest_uid=3)
    assert (again.stored, again.located) == (0, 0)
    assert store.count_messages() == 3
    state = store.folder_state("a", "INBOX")
    assert state and (state.uidvalidity, state.highest_uid) == (7, 3)


def test_the_same_message_in_two_folders_counts_once(store):
    store.save_batch([item("m1", 1)], account="a", folder="INBOX", uidvalidity=7, highest_uid=1)
    result = store.save_batch(
        [item("m1", 9, folder="[Gmail]/Important", uidvalidity=3)],
        account="a",
        folder="[Gmail]/Important",
        uidvalidity=3,
        highest_uid=9,
    )
    assert (result.stored, result.located) == (0, 1)
    assert store.count_messages() == 1
    # And twice in one batch (two labels fetched together).
    twice = [item("m5", 5), item("m5", 6)]
    result = store.save_batch(twice, account="a", folder="INBOX", uidvalidity=7, highest_uid=6)
    assert (result.stored, result.located) == (1, 1)


def test_dates_come_back_timezone_aware_in_utc(store):
    store.save_batch([item("m1", 1)], account="a", folder="INBOX", uidvalidity=7, highest_uid=1)
    [message] = store.recent_messages(5)
    assert message.date == datetime(2026, 11, 2, 20, 0, tzinfo=UTC)
    assert message.date.tzinfo is not None


def test_quarantined_message_keeps_its_error_and_raw_bytes(store):
    bad = IncomingMessage(
        identity="sha:abc",
        account="a",
        folder="INBOX",
        key="7/4",
        uid=4,
        uidvalidity=7,
        error="not an email",
        raw=b"\x00\x01",
    )
    result = store.save_batch([bad], account="a", folder="INBOX", uidvalidity=7, highest_uid=4)
    assert result.quarantined == 1
    [row] = store.recent_messages(1)
    assert (row.status, row.error, row.raw) == ("quarantined", "not an email", b"\x00\x01")


def test_sqlite_runs_in_wal_mode(tmp_path):
    s = Store(f"sqlite:///{tmp_path}/w.db")
    with s.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    s.close()


def test_a_database_of_the_first_release_is_upgraded_without_losing_data(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_db_engine(url)
    cfg = _alembic_config()
    with engine.begin() as conn:  # the schema as the first release made it
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO messages (identity, message_id, content_hash, account, folder, "
                "from_user, status, error, subject, from_name, from_email, to_addrs, cc_addrs, "
                'in_reply_to, "references", bulk, is_bulk, text, new_text, quoted_text, '
                "signature, calendar, defects, size, stored_at) VALUES ('mid:old', 'old', '', "
                "'a', 'INBOX', 0, 'ok', '', 'Kept', '', '', '[]', '[]', '', '[]', '{}', 0, 'body', "
                "'', '', '', '[]', '[]', 4, '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    reopened = Store(url)
    [row] = reopened.recent_messages(5)
    assert (row.subject, row.text, row.label, row.needs_review) == ("Kept", "body", None, False)
    assert current_revision(reopened.engine) == head_revision()
    reopened.close()


def test_default_location_follows_systemd_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    assert default_database_path() == tmp_path / "state" / "interviewd.db"
    monkeypatch.delenv("STATE_DIRECTORY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert database_url("") == f"sqlite:///{tmp_path}/xdg/interviewd/interviewd.db"
    assert database_url("postgresql://x/y") == "postgresql://x/y"


def test_a_bad_url_is_a_clear_error_without_the_password():
    with pytest.raises(StoreError) as caught:
        Store("postgresql+psycopg://user:hunter2@127.0.0.1:1/nothing")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(StoreError, match="not a valid SQLAlchemy URL"):
        Store("not a url")


def test_an_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create the database folder"):
        Store(f"sqlite:///{blocker}/sub/db.sqlite")


def test_a_new_sqlite_database_is_readable_by_its_owner_alone(tmp_path):
    s = Store(f"sqlite:///{tmp_path}/private/db.sqlite")
    s.save_batch([item("m1", 1)], account="a", folder="INBOX", uidvalidity=7, highest_uid=1)
    assert (tmp_path / "private").stat().st_mode & 0o777 == 0o700
    for name in ("db.sqlite", "db.sqlite-wal"):
        path = tmp_path / "private" / name
        if path.exists():
            assert path.stat().st_mode & 0o077 == 0, name
    s.close()
