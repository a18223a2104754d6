"""``interviewd init`` logic against the real test Dovecot, without a terminal."""

from __future__ import annotations

import dataclasses
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from conftest import ALICE, MemoryKeyring, interviewd
from interviewd.config import parse_config_file
from interviewd.errors import InterviewdError, SecretError, UsageError
from interviewd.health import format_results, run_doctor
from interviewd.secretstore import set_secret
from interviewd.setup_wizard import (
    ChannelAnswer,
    InitAnswers,
    ask_missing,
    detect_provider,
    run_init,
)
from servers import Dovecot, free_port
from test_doctor import build_tiny_model


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("model") / "textcat")


def flags(dovecot: Dovecot, tmp_path: Path, **extra: object) -> InitAnswers:
    """What `interviewd init --address ... --password-stdin ...` would pass, no terminal."""
    base: dict[str, object] = {
        "address": "alice@example.test",
        "host": dovecot.host,
        "port": dovecot.port,
        "security": "none",
        "username": ALICE[0],
        "password": ALICE[1],
        "account_name": "work",
        "store_secret_in": f"credentials-dir:{tmp_path / 'creds'}",
        "output": tmp_path / "xdg" / "interviewd" / "config.yaml",
    }
    base.update(extra)
    return ask_missing(InitAnswers(**base), None)  # type: ignore[arg-type]


def test_init_without_terminal_writes_a_config_check_config_and_doctor_accept(
    dovecot: Dovecot,
    tmp_path: Path,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    no_keyring: None,
    tiny_model: Path,
) -> None:
    answers = flags(dovecot, tmp_path, channels=(ChannelAnswer("laptop", "desktop"),))
    report = run_init(answers)
    path = tmp_path / "xdg" / "interviewd" / "config.yaml"
    assert report.path == path
    assert report.sent_folder == "Sent" and report.drafts_folder == "Drafts"
    assert report.has_idle
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert ALICE[1] not in text
    assert "sent_folder: Sent" in text and "Drafts folder found: 'Drafts'" in text
    assert text.count("\n# ") + text.count("    # ") > 5  # commented, not bare values
    credential = tmp_path / "creds" / "imap-work"
    assert credential.read_text().strip() == ALICE[1]
    assert stat.S_IMODE(credential.stat().st_mode) == 0o600

    env = dict(env, CREDENTIALS_DIRECTORY=str(tmp_path / "creds"))
    done = interviewd("--config", str(path), "check-config", env=env)
    assert done.returncode == 0, done.stderr
    assert "valid (1 account(s))" in done.stdout

    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "creds"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = parse_config_file(path)
    assert config.accounts[0].secret == "imap-work"
    assert [c.name for c in config.alerts.channels] == ["laptop"]
    # The shipped model may not be built in this checkout: point at a small real one.
    config = dataclasses.replace(
        config, classifier=dataclasses.replace(config.classifier, model=str(tiny_model))
    )
    results = run_doctor(config)
    assert all(r.ok for r in results), format_results(results)


def test_init_stores_the_password_in_the_keyring(
    dovecot: Dovecot, tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    report = run_init(flags(dovecot, tmp_path, store_secret_in="keyring"))
    assert memory_keyring.items[("interviewd", "imap-work")] == ALICE[1]
    assert "keyring" in report.secret_stored_in
    assert not (tmp_path / "creds").exists()


def test_wrong_password_fails_clearly_and_writes_nothing(
    dovecot: Dovecot, tmp_path: Path, no_keyring: None
) -> None:
    with pytest.raises(InterviewdError, match=r"login failed, nothing written: .*login refused"):
        run_init(flags(dovecot, tmp_path, password="wrong-password"))
    assert not (tmp_path / "xdg").exists()
    assert not (tmp_path / "creds").exists()


def test_unreachable_server_writes_nothing(tmp_path: Path, dovecot: Dovecot) -> None:
    with pytest.raises(InterviewdError, match=r"cannot reach 127\.0\.0\.1:.*--port"):
        run_init(flags(dovecot, tmp_path, port=free_port()))
    assert not (tmp_path / "xdg").exists()


def test_refuses_to_overwrite(dovecot: Dovecot, tmp_path: Path, no_keyring: None) -> None:
    run_init(flags(dovecot, tmp_path))
    path = tmp_path / "xdg" / "interviewd" / "config.yaml"
    path.write_text("# mine\n")
    with pytest.raises(UsageError, match="exists; pass --force"):
        run_init(flags(dovecot, tmp_path))
    assert path.read_text() == "# mine\n"
    run_init(flags(dovecot, tmp_path, overwrite=True))
    assert "accounts:" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_terminal_names_the_missing_flag() -> None:
    with pytest.raises(UsageError, match="--password-stdin") as info:
        ask_missing(InitAnswers(address="me@fastmail.com"), None)
    assert "--address" not in str(info.value)
    with pytest.raises(UsageError, match="--address"):
        ask_missing(InitAnswers(password="x"), None)


def test_interactive_asks_only_what_flags_did_not_give(tmp_path: Path) -> None:
    asked: list[str] = []

    def ask(question: str, default: str) -> str:
        asked.append(question)
        return "s3cret-value" if "(not shown)" in question else default

    answers = ask_missing(
        InitAnswers(
            address="me@gmail.com",
            store_secret_in="none",
            channels=(),
            timezone="Europe/Berlin",
            output=tmp_path / "c.yaml",
        ),
        ask,
    )
    assert answers.host == "imap.gmail.com" and answers.port == 993
    assert answers.security == "tls" and answers.username == "me@gmail.com"
    assert answers.password == "s3cret-value"
    assert not any("address" in q or "Time zone" in q or "Alert" in q for q in asked)
    assert any("app password" in q for q in asked)  # the provider's note is shown


@pytest.mark.parametrize(
    ("address", "host", "port", "security"),
    [
        ("a@gmail.com", "imap.gmail.com", 993, "tls"),
        ("a@hotmail.com", "outlook.office365.com", 993, "tls"),
        ("a@fastmail.com", "imap.fastmail.com", 993, "tls"),
        ("a@icloud.com", "imap.mail.me.com", 993, "tls"),
        ("a@yahoo.com", "imap.mail.yahoo.com", 993, "tls"),
        ("a@proton.me", "127.0.0.1", 1143, "starttls"),
        ("a@example.org", "imap.example.org", 993, "tls"),
    ],
)
def test_providers(address: str, host: str, port: int, security: str) -> None:
    provider = detect_provider(address)
    assert (provider.host, provider.port, provider.security) == (host, port, security)


def test_outlook_says_oauth2() -> None:
    assert "OAuth2" in detect_provider("x@outlook.com").note


def test_headless_keyring_says_what_works(no_keyring: None) -> None:
    with pytest.raises(SecretError) as info:
        set_secret("imap-work", "value-123")
    message = str(info.value)
    assert "\n" not in message
    assert "systemd-creds encrypt" in message and "LoadCredentialEncrypted=" in message
    assert "keyrings.alt" in message and "password_command" in message
    assert "value-123" not in message
