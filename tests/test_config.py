"""Config lookup and validation: every problem at once, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import interviewd
from interviewd.config import candidate_paths, parse_config_text
from interviewd.config.sample import render_markdown, render_yaml
from interviewd.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_is_the_generated_sample_and_valid():
    shipped = (ROOT / "config" / "interviewd.example.yaml").read_text()
    assert shipped == render_yaml(), "run 'make sample-config' after changing the schema"
    config = parse_config_text(shipped)
    assert [a.name for a in config.accounts] == ["personal", "local"]


def test_every_key_is_documented():
    table = render_markdown()
    for key in ("sync.backfill_days", "accounts[].security", "store.url", "store.keep_text"):
        assert f"`{key}`" in table
    assert "| |" not in table  # no key without a description


def test_defaults_match_the_documented_ones():
    config = parse_config_text("accounts: []")
    assert config.sync.backfill_days == 120
    assert config.sync.idle_renew_minutes == 10
    assert config.sync.poll_interval_seconds == 60
    assert config.sync.backoff_initial_seconds == 1
    assert config.sync.backoff_max_seconds == 300


def test_every_problem_is_reported_at_once_with_its_key_path():
    text = """
acounts: []
sync: {batch_size: 0, idle_renew_minutes: 40, poll_interval_seconds: "often"}
store: {keep_text: everything}
accounts:
  - name: a
    host: mail.example.com
    security: none
  - name: a
    type: maildir
timezone: Mars/Olympus
"""
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text)
    problems = caught.value.problems
    expected = [
        "acounts: unknown key (did you mean 'accounts'?)",
        "sync.batch_size: 0 is below the minimum 1",
        "sync.idle_renew_minutes: 40 is above the maximum 28",
        "sync.poll_interval_seconds: expected a number",
        "store.keep_text: 'everything' is not one of job, all, none",
        "timezone: unknown time zone",
        "accounts[0].username: required",
        "accounts[0].security: 'none' sends your password in clear text",
        "accounts[1].name: 'a' is used by another account",
        "accounts[1].path: required for a maildir account",
    ]
    for fragment in expected:
        assert any(p.startswith(fragment) for p in problems), (fragment, problems)
    assert len(problems) == len(expected)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.53"])
def test_security_none_is_allowed_on_loopback(host):
    parse_config_text(f"accounts: [{{name: bridge, host: '{host}', username: me, security: none}}]")


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(ConfigError, match="not valid YAML at line 3, column 4"):
        parse_config_text("accounts:\n  - name: x\n   bad: [indent\nsync: {}\n")


def test_lookup_order(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("INTERVIEWD_CONFIG", raising=False)
    paths = candidate_paths(None)
    assert paths == [
        tmp_path / "xdg" / "interviewd" / "config.yaml",
        Path("/etc/interviewd/config.yaml"),
    ]
    monkeypatch.setenv("INTERVIEWD_CONFIG", "/somewhere/else.yaml")
    assert candidate_paths(None) == [Path("/somewhere/else.yaml")]
    assert candidate_paths("/explicit.yaml") == [Path("/explicit.yaml")]


def test_check_config_cli_lists_every_problem_and_exits_2(tmp_path, env):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "sync:\n  batch_size: -1\n  polling: 5\naccounts:\n  - name: x\n    type: pop3\n"
    )
    result = interviewd("--config", str(bad), "check-config", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "3 problems" in result.stderr
    assert "sync.batch_size" in result.stderr
    assert "sync.polling: unknown key" in result.stderr
    assert "accounts[0].type: 'pop3' is not one of imap, maildir" in result.stderr


def test_check_config_finds_the_file_through_the_environment(tmp_path, env):
    good = tmp_path / "good.yaml"
    good.write_text("accounts: [{name: m, type: maildir, path: /tmp}]\n")
    env["INTERVIEWD_CONFIG"] = str(good)
    result = interviewd("check-config", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert '"ok": true' in result.stdout


def test_missing_config_is_one_line_with_the_fix(tmp_path, env):
    result = interviewd("check-config", env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "no config file found" in result.stderr and "--config" in result.stderr


def test_unreadable_config_is_reported(tmp_path, env):
    result = interviewd("--config", str(tmp_path / "nope.yaml"), "check-config", env=env)
    assert result.returncode == 2
    assert "file not found" in result.stderr


def test_readme_config_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- config-table:start -->\n") + len("<!-- config-table:start -->\n")
    end = readme.index("<!-- config-table:end -->")
    assert readme[start:end] == render_markdown(), "paste 'interviewd config --markdown' in"
