"""``run_doctor`` against the real test Dovecot: a good config passes, each fault has its fix."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from interviewd.config import Config, parse_config_text
from interviewd.health import MIGRATE_FIX, CheckResult, format_results, run_doctor
from interviewd.secretstore import check_secrets, secret_names
from interviewd.store.db import create_db_engine, migrate
from servers import Dovecot, free_port


def build_tiny_model(path: Path) -> Path:
    """A small real spaCy textcat pipeline, so the classifier check loads a model without
    depending on the shipped one being built."""
    import spacy
    from spacy.training import Example

    from interviewd.textcat.model import LABELS

    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat")
    for label in LABELS:
        textcat.add_label(label)
    texts = {"scheduling": "we invite you to an interview", "other": "weekly newsletter"}
    examples = [
        Example.from_dict(
            nlp.make_doc(text), {"cats": {label: float(label == gold) for label in LABELS}}
        )
        for gold, text in texts.items()
    ]
    nlp.initialize(lambda: examples)
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("model") / "textcat")


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def secrets_env(credentials: Path, monkeypatch: pytest.MonkeyPatch, no_keyring: None) -> Path:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    return credentials


def make_config(
    dovecot: Dovecot, tmp_path: Path, model: Path, *, port: int | None = None, folders: str = ""
) -> Config:
    text = f"""\
accounts:
  - name: work
    host: {dovecot.host}
    port: {port or dovecot.port}
    security: none
    username: alice
    folders: [{folders or "INBOX"}]
store:
  url: sqlite:///{tmp_path}/interviewd.db
classifier:
  model: {model}
"""
    return parse_config_text(text)


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


def failures(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.ok]


def test_good_config_passes(
    dovecot: Dovecot, tmp_path: Path, secrets_env: Path, tiny_model: Path
) -> None:
    config = make_config(dovecot, tmp_path, tiny_model)
    migrate(create_db_engine(config.store.url))
    results = run_doctor(config)
    assert failures(results) == [], format_results(results)
    checks = by_name(results)
    assert "found in $CREDENTIALS_DIRECTORY" in checks["secret imap-work"].detail
    assert "logged in" in checks["account work login"].detail
    assert checks["account work folder INBOX"].ok
    assert "'Sent'" in checks["account work Sent folder"].detail
    assert "supported" in checks["account work IDLE"].detail
    assert "migrations current" in checks["database"].detail
    assert str(tiny_model) in checks["classifier"].detail
    # One line per check, no value of any secret.
    text = format_results(results)
    assert len(text.splitlines()) == len(results)
    assert "alice-imap-pass" not in text


def test_a_database_not_yet_created_is_fine(
    dovecot: Dovecot, tmp_path: Path, secrets_env: Path, tiny_model: Path
) -> None:
    config = make_config(dovecot, tmp_path, tiny_model)
    check = by_name(run_doctor(config))["database"]
    assert check.ok and "not created yet" in check.detail
    assert not (tmp_path / "interviewd.db").exists()


def test_old_database_says_how_to_migrate(
    dovecot: Dovecot, tmp_path: Path, secrets_env: Path, tiny_model: Path
) -> None:
    config = make_config(dovecot, tmp_path, tiny_model)
    sqlite3.connect(tmp_path / "interviewd.db").close()  # exists, no migration applied
    check = by_name(run_doctor(config))["database"]
    assert not check.ok
    assert check.fix == MIGRATE_FIX


def test_wrong_password(
    dovecot: Dovecot, tmp_path: Path, secrets_env: Path, tiny_model: Path
) -> None:
    (secrets_env / "imap-work").write_text("not-the-password\n")
    results = run_doctor(make_config(dovecot, tmp_path, tiny_model))
    login = by_name(results)["account work login"]
    assert not login.ok
    assert "login refused" in login.detail
    assert "interviewd secrets set imap-work" in login.fix
    assert "not-the-password" not in format_results(results)
    assert [r.name for r in failures(results)] == ["account work login"]


def test_missing_folder(
    dovecot: Dovecot, tmp_path: Path, secrets_env: Path, tiny_model: Path
) -> None:
    config = make_config(dovecot, tmp_path, tiny_model, folders="INBOX, Jobs")
    results = run_doctor(config)
    assert [r.name for r in failures(results)] == ["account work folder Jobs"]
    check = by_name(results)["account work folder Jobs"]
    assert "no folder 'Jobs'" in check.detail and "Sent" in check.detail
    assert "accounts[0].folders" in check.fix


def test_unreachable_host(
    dovecot: Dovecot, tmp_path: Path, secrets_env: Path, tiny_model: Path
) -> None:
    closed = free_port()  # nothing listens there
    results = run_doctor(make_config(dovecot, tmp_path, tiny_model, port=closed))
    assert [r.name for r in failures(results)] == ["account work login"]
    login = by_name(results)["account work login"]
    assert f"127.0.0.1:{closed}" in login.detail and "refused" in login.detail
    assert "accounts[0].host" in login.fix and "accounts[0].port" in login.fix


def test_missing_secret(
    dovecot: Dovecot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_keyring: None,
    tiny_model: Path,
) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "empty"))
    results = run_doctor(make_config(dovecot, tmp_path, tiny_model))
    secret = by_name(results)["secret imap-work"]
    assert not secret.ok
    assert "interviewd secrets set imap-work" in secret.fix
    assert "LoadCredential=imap-work:" in secret.fix
    assert not by_name(results)["account work login"].ok


def test_maildir_and_classifier_failures(tmp_path: Path, no_keyring: None) -> None:
    (tmp_path / "notmaildir").mkdir()
    config = parse_config_text(
        f"""\
accounts:
  - name: local
    type: maildir
    path: {tmp_path / "notmaildir"}
store:
  url: sqlite:///{tmp_path}/interviewd.db
classifier:
  model: {tmp_path / "no-model"}
"""
    )
    checks = by_name(run_doctor(config))
    assert not checks["account local maildir"].ok
    assert "accounts[0].path" in checks["account local maildir"].fix
    assert not checks["classifier"].ok
    assert "classifier.model" in checks["classifier"].fix


def test_channel_checks_hook_and_secret_names(tmp_path: Path, no_keyring: None) -> None:
    config = parse_config_text(
        """\
accounts:
  - {name: personal, host: imap.example.com, username: me@example.com}
  - {name: gmail, host: imap.gmail.com, username: me@gmail.com,
     oauth2_token_command: "echo token-from-command"}
alerts:
  channels:
    - {name: laptop, type: desktop}
    - {name: phone, type: apprise}
    - {name: mail, type: email, smtp_host: smtp.example.com, to_address: me@example.com,
       smtp_username: me}
    - {name: relay, type: email, smtp_host: localhost, to_address: me@example.com}
"""
    )
    assert [n for n, _ in secret_names(config)] == [
        "imap-personal",
        "oauth2-gmail",
        "alert-phone",
        "alert-mail",
    ]
    checks = by_name(check_secrets(config))
    assert checks["secret oauth2-gmail"].ok
    assert "oauth2_token_command" in checks["secret oauth2-gmail"].detail
    assert "token-from-command" not in checks["secret oauth2-gmail"].detail
    assert not checks["secret alert-phone"].ok

    seen: list[Config] = []

    def channel_checks(cfg: Config) -> list[CheckResult]:
        seen.append(cfg)
        return [CheckResult("channel phone", False, "unreachable", "check the URL")]

    local = dataclasses.replace(
        config,
        accounts=(),
        store=dataclasses.replace(config.store, url=f"sqlite:///{tmp_path}/x.db"),
    )
    results = run_doctor(local, channel_checks=channel_checks)
    assert seen == [local]
    assert by_name(results)["channel phone"].fix == "check the URL"
