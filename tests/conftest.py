"""Shared fixtures: real Dovecot and PostgreSQL servers, configs and the CLI runner."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient
from keyring.backend import KeyringBackend

sys.path.insert(0, str(Path(__file__).parent))

from servers import Dovecot, Postgres

ALICE = ("alice", "alice-imap-pass")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot(users=[ALICE])
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def imap(dovecot: Dovecot) -> Iterator[IMAPClient]:
    """The test's own client, to APPEND mail and look at flags (not interviewd's)."""
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10)
    client.login(*ALICE)
    yield client
    with contextlib.suppress(Exception):  # the server may be stopped by the test
        client.logout()


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    """A systemd-style credentials folder holding alice's IMAP password."""
    folder = tmp_path / "credentials"
    folder.mkdir()
    (folder / "imap-work").write_text(ALICE[1] + "\n")
    return folder


def imap_config(dovecot: Dovecot, tmp_path: Path, **sync: object) -> Path:
    sync_yaml = "".join(f"  {k}: {v}\n" for k, v in sync.items())
    path = tmp_path / "config.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            accounts:
              - name: work
                host: {dovecot.host}
                port: {dovecot.port}
                security: none
                username: alice
            store:
              url: sqlite:///{tmp_path}/interviewd.db
            """
        )
        + (f"sync:\n{sync_yaml}" if sync_yaml else "")
    )
    return path


@pytest.fixture
def env(credentials: Path, tmp_path: Path) -> dict[str, str]:
    """Environment for interviewd subprocesses: secrets from CREDENTIALS_DIRECTORY."""
    e = dict(os.environ)
    e["CREDENTIALS_DIRECTORY"] = str(credentials)
    e["XDG_DATA_HOME"] = str(tmp_path / "data")
    e["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    e.pop("INTERVIEWD_CONFIG", None)
    # No keyring daemon in tests: the credentials folder is the secret store.
    e["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return e


def interviewd(
    *args: str, env: dict[str, str], timeout: float = 120, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interviewd", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        input=input,
    )


class MemoryKeyring(KeyringBackend):
    """A real keyring backend kept in memory (the test machine has no keyring daemon)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
