"""Secret lookup: systemd credentials, keyring, command; no value ever in a message."""

from __future__ import annotations

import sys

import pytest

from interviewd.errors import SecretError
from interviewd.secrets import SecretSpec, resolve


def test_credentials_directory_comes_first(tmp_path, monkeypatch, memory_keyring):
    (tmp_path / "imap-x").write_text("from-systemd\n")
    memory_keyring.set_password("interviewd", "imap-x", "from-keyring")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert resolve(SecretSpec("imap-x")) == "from-systemd"


def test_keyring_then_command(tmp_path, monkeypatch, memory_keyring):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    memory_keyring.set_password("interviewd", "imap-x", "from-keyring")
    assert resolve(SecretSpec("imap-x", command="echo from-command")) == "from-keyring"
    assert resolve(SecretSpec("imap-y", command="echo from-command")) == "from-command"


def test_missing_secret_says_how_to_store_it(monkeypatch, memory_keyring):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(SecretError, match="interviewd secrets set imap-z"):
        resolve(SecretSpec("imap-z"))


def test_a_failing_command_never_echoes_its_output(monkeypatch, memory_keyring):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    command = f"{sys.executable} -c \"import sys; print('s3cr3t-value'); sys.exit(3)\""
    with pytest.raises(SecretError) as caught:
        resolve(SecretSpec("imap-q", command=command))
    assert "status 3" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_unknown_command_is_a_clear_error(monkeypatch, memory_keyring):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(SecretError, match="command not found"):
        resolve(SecretSpec("imap-q", command="/nonexistent/pass show x"))
