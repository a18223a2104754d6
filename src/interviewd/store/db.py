"""Opening the database: engine, SQLite pragmas, the default location and migrations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from ..errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_database_path() -> Path:
    """$STATE_DIRECTORY (systemd's StateDirectory=) else $XDG_DATA_HOME/interviewd."""
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        base = Path(state.split(":")[0])
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        base = Path(xdg) / "interviewd"
    return base / "interviewd.db"


def database_url(configured: str) -> str:
    if configured:
        return configured
    path = default_database_path()
    return f"sqlite:///{path}"


def redact_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            "store.url is not a valid SQLAlchemy URL; use e.g. sqlite:////path/db or "
            "postgresql+psycopg://user@host/db"
        ) from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            path = Path(database).expanduser()
            try:
                # Mail is private: the folder and the database are their owner's alone
                # (SQLite gives its -wal and -shm files the database file's mode).
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                if not path.exists():
                    path.touch(mode=0o600)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the database folder {path.parent}: {exc.strerror}"
                ) from None
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise StoreError(
            f"cannot open database {redact_url(url)}: {exc.__class__.__name__}; "
            "check store.url and that its driver is installed"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _atomic_sqlite_engine(engine: Engine) -> Engine:
    """An engine whose transactions really wrap DDL, for migrations on SQLite.

    pysqlite commits before every DDL statement, so a kill -9 in the middle of a
    migration would leave half a schema and no version row. Here SQLAlchemy emits
    BEGIN IMMEDIATE itself (the recipe of its SQLite dialect docs), so a migration is
    all or nothing. Normal work keeps pysqlite's behaviour, which waits for locks better.
    """
    atomic = create_engine(engine.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    def connect(dbapi_connection: Any, record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, record)
        dbapi_connection.isolation_level = None

    event.listen(atomic, "connect", connect)
    event.listen(atomic, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return atomic


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is current)."""
    try:
        if current_revision(engine) == head_revision():
            return
        cfg = _alembic_config()
        sqlite = engine.dialect.name == "sqlite"
        target = _atomic_sqlite_engine(engine) if sqlite else engine
        try:
            with target.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        finally:
            if sqlite:
                target.dispose()
    except OperationalError as exc:
        raise StoreError(
            f"cannot use database {redact_url(str(engine.url))}: {_first_line(exc.orig)}"
        ) from None


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc and str(exc).strip() else "unknown error"
