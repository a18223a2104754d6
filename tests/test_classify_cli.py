"""`interviewd classify` (the scripts' contract) and label corrections that survive a restart."""

from __future__ import annotations

import json
import shutil
from email.message import EmailMessage
from pathlib import Path

from conftest import interviewd

ROOT = Path(__file__).resolve().parent.parent


def eml(path: Path, subject: str, body: str) -> Path:
    msg = EmailMessage()
    msg["From"] = "Dana Whitfield <dana@larkspur.example>"
    msg["To"] = "sam@example.net"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{path.stem}@example>"
    msg.set_content(body)
    path.write_bytes(msg.as_bytes())
    return path


def synced_demo(tmp_path: Path, env: dict[str, str]) -> Path:
    """The sample Maildir, synced once into a fresh SQLite database; returns the config."""
    maildir = tmp_path / "maildir"
    shutil.copytree(ROOT / "examples" / "maildir", maildir)
    config = tmp_path / "c.yaml"
    config.write_text(
        f"accounts: [{{name: demo, type: maildir, path: '{maildir}'}}]\n"
        f"store: {{url: 'sqlite:///{tmp_path}/c.db'}}\n"
    )
    assert interviewd("--config", str(config), "sync", "--once", env=env).returncode == 0
    return config


def test_classify_json_contract_on_good_empty_binary_and_missing_files(tmp_path, env):
    good = eml(
        tmp_path / "offer.eml",
        "Offer of employment",
        "Dear Sam,\n\nWe are delighted to offer you the position of Staff Nurse, starting "
        "January 5 at a salary of $82,000. Please sign the attached offer letter.\n\nDana",
    )
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    binary = tmp_path / "photo.eml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    missing = tmp_path / "missing.eml"
    env.pop("CREDENTIALS_DIRECTORY", None)  # no config, no secrets, no network needed
    result = interviewd(
        "classify", "--json", str(good), str(empty), str(binary), str(missing), env=env
    )
    assert result.returncode == 1, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_path = {line["path"]: line for line in lines}
    assert set(by_path) == {str(good), str(empty), str(binary), str(missing)}
    ok = by_path[str(good)]
    assert ok["label"] == "offer"
    assert set(ok["scores"]) == {"scheduling", "feedback", "rejection", "offer", "other"}
    assert 0 < ok["confidence"] <= 1 and ok["confidence"] == max(ok["scores"].values())
    assert by_path[str(empty)] == {"path": str(empty), "error": "empty file"}
    assert "binary" in by_path[str(binary)]["error"]
    assert by_path[str(missing)]["error"] == "no such file"
    assert "Traceback" not in result.stderr


def test_classify_a_folder_and_standard_input(tmp_path, env):
    folder = tmp_path / "mail"
    folder.mkdir()
    eml(folder / "a.eml", "Interview invitation", "Could you do a phone screen on Tuesday at 2pm?")
    eml(folder / "b.eml", "Your application", "We have decided not to move forward with you.")
    result = interviewd("classify", str(folder), env=env)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2
    raw = (folder / "b.eml").read_text()
    piped = interviewd("classify", "--json", "-", env=env, input=raw)
    assert json.loads(piped.stdout)["label"] == "rejection"


def test_a_correction_changes_the_label_at_once_and_survives_a_restart(tmp_path, env):
    config = synced_demo(tmp_path, env)
    messages = json.loads(
        interviewd("--config", str(config), "messages", "--json", "--limit", "100", env=env).stdout
    )
    target = next(m for m in messages if m["label"] == "other" and not m["from_user"])
    result = interviewd("--config", str(config), "label", str(target["id"]), "feedback", env=env)
    assert result.returncode == 0, result.stderr
    # A new process (as after a restart) sees the corrected label, kept with certainty.
    again = json.loads(
        interviewd("--config", str(config), "messages", "--json", "--limit", "100", env=env).stdout
    )
    fixed = next(m for m in again if m["id"] == target["id"])
    assert (fixed["label"], fixed["confidence"], fixed["needs_review"]) == ("feedback", 1.0, False)
    # A second sync does not overwrite the user's label.
    assert interviewd("--config", str(config), "sync", "--once", env=env).returncode == 0
    after = json.loads(
        interviewd("--config", str(config), "messages", "--json", "--limit", "100", env=env).stdout
    )
    assert next(m for m in after if m["id"] == target["id"])["label"] == "feedback"
    bad = interviewd("--config", str(config), "label", str(target["id"]), "spam", env=env)
    assert bad.returncode == 2 and "unknown label 'spam'" in bad.stderr


def test_training_with_corrections_writes_a_personal_model_not_the_shipped_one(tmp_path, env):
    config = tmp_path / "c.yaml"
    config.write_text(f"accounts: []\nstore: {{url: 'sqlite:///{tmp_path}/c.db'}}\n")
    result = interviewd("--config", str(config), "model", "train", "--with-corrections", env=env)
    assert result.returncode == 2
    assert "no corrections yet" in result.stderr


def test_privacy_other_mail_keeps_headers_only_job_mail_keeps_its_text(tmp_path, env):
    import sqlite3

    synced_demo(tmp_path, env)
    with sqlite3.connect(tmp_path / "c.db") as db:
        rows = db.execute(
            "select label, application_pk, needs_review, match_uncertain, text, text_dropped,"
            " subject from messages where from_user = 0"
        ).fetchall()
    for label, app, review, uncertain, text, dropped, subject in rows:
        if label == "other" and app is None and not review and not uncertain:
            assert (text, dropped) == ("", 1), subject
            assert subject  # headers stay
        if label in ("scheduling", "feedback", "rejection", "offer"):
            assert text and not dropped, subject
        if review:
            assert text, subject
    assert any(r[5] for r in rows) and any(not r[5] for r in rows)


def test_draft_uses_the_template_beside_the_config_given_with_config(tmp_path, env):
    config = tmp_path / "conf" / "c.yaml"
    (tmp_path / "conf" / "templates").mkdir(parents=True)
    config.write_text(f"timezone: UTC\naccounts: []\nstore: {{url: 'sqlite:///{tmp_path}/t.db'}}\n")
    (tmp_path / "conf" / "templates" / "thank_you.txt.j2").write_text(
        "Subject: My own thanks, {{ company }}\n\nHello from my own template.\n"
    )
    added = interviewd(
        "--config",
        str(config),
        "interview",
        "add",
        "--company",
        "Acme",
        "--role",
        "Analyst",
        "--at",
        "2026-01-05 10:00",
        "--json",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    listed = json.loads(
        interviewd(
            "--config", str(config), "followups", "--json", "--at", "2026-01-06 12:00", env=env
        ).stdout
    )
    [item] = [f for f in listed["due"] + listed["overdue"] if f["kind"] == "thank_you"]
    draft = interviewd("--config", str(config), "draft", str(item["id"]), "--json", env=env)
    assert draft.returncode == 0, draft.stderr
    body = json.loads(draft.stdout)
    assert body["subject"] == "My own thanks, Acme"
    assert "Hello from my own template." in body["body"]
