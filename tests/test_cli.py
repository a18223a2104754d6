"""The command line: help everywhere, stable --json shapes, usage errors exit 2."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from conftest import interviewd
from interviewd.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*path, name))
                found.extend(_walk(sub, (*path, name)))
    return found


def commands() -> list[tuple[str, ...]]:
    return _walk(build_parser())


def _parser_for(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize("path", commands(), ids=" ".join)
def test_every_command_has_help(path, capsys):
    sub = _parser_for(path)
    assert sub.description, f"{' '.join(path)} has no description"
    for arg in sub._actions:
        if arg.dest != "help":
            assert arg.help, f"{' '.join(path)} {arg.dest} has no help"
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    assert "usage: interviewd" in capsys.readouterr().out


def test_the_command_list_is_complete():
    names = {" ".join(p) for p in commands()}
    for expected in (
        "sync",
        "run",
        "messages",
        "check-config",
        "classify",
        "review",
        "label",
        "model train",
        "model evaluate",
        "interviews",
        "followups",
        "note",
        "interview add",
        "interview show",
        "interview set",
        "done",
        "snooze",
        "dismiss",
        "draft",
        "alerts test",
        "status",
        "doctor",
        "secrets set",
        "secrets check",
        "init",
        "web",
        "config",
    ):
        assert expected in names


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as done:
        main(["messages", "--bogus"])
    assert done.value.code == 2


def demo_env(env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Path]:
    maildir = tmp_path / "maildir"
    shutil.copytree(ROOT / "examples" / "maildir", maildir)
    config = tmp_path / "demo.yaml"
    config.write_text(f"accounts:\n  - name: demo\n    type: maildir\n    path: {maildir}\n")
    return env, config


def test_maildir_sync_and_messages_json_shape(env, tmp_path):
    env, config = demo_env(env, tmp_path)
    before = sorted(p.name for p in (tmp_path / "maildir").rglob("*") if p.is_file())
    sync = interviewd("--config", str(config), "sync", "--once", "--json", env=env)
    assert sync.returncode == 0, sync.stderr
    report = json.loads(sync.stdout)["demo"]
    assert report["stored"] >= 20 and report["quarantined"] == 0
    assert "Sent" in report["folders"]
    # Read-only: not a single Maildir file was renamed (flags live in the names).
    assert sorted(p.name for p in (tmp_path / "maildir").rglob("*") if p.is_file()) == before

    again = interviewd("--config", str(config), "sync", "--once", "--json", env=env)
    assert json.loads(again.stdout)["demo"]["stored"] == 0

    listed = interviewd("--config", str(config), "messages", "--json", "--limit", "5", env=env)
    assert listed.returncode == 0, listed.stderr
    messages = json.loads(listed.stdout)
    assert len(messages) == 5
    assert set(messages[0]) == {
        "id",
        "account",
        "folder",
        "date",
        "from",
        "subject",
        "message_id",
        "from_user",
        "status",
        "error",
        "label",
        "confidence",
        "needs_review",
    }
    labels = {m["label"] for m in messages if not m["from_user"]}
    assert labels <= {"scheduling", "feedback", "rejection", "offer", "other"} and labels
    assert set(messages[0]["from"]) == {"name", "email"}
    dates = [m["date"] for m in messages]
    assert dates == sorted(dates, reverse=True)


def test_messages_limit_must_be_positive(env, tmp_path):
    env, config = demo_env(env, tmp_path)
    result = interviewd("--config", str(config), "messages", "--limit", "0", env=env)
    assert result.returncode == 2
    assert "--limit must be 1 or more" in result.stderr


def test_sync_without_once_is_a_usage_error(env, tmp_path):
    env, config = demo_env(env, tmp_path)
    result = interviewd("--config", str(config), "sync", env=env)
    assert result.returncode == 2
    assert "interviewd run" in result.stderr


def test_unknown_account_is_a_usage_error(env, tmp_path):
    env, config = demo_env(env, tmp_path)
    result = interviewd("--config", str(config), "sync", "--once", "--account", "nope", env=env)
    assert result.returncode == 2
    assert "unknown account nope; configured: demo" in result.stderr
