"""Find, read and validate the config file, reporting every problem at once."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import types
import typing
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from .schema import ALERT_KINDS, AccountConfig, Config

SYSTEM_CONFIG = Path("/etc/interviewd/config.yaml")


def candidate_paths(explicit: str | None = None) -> list[Path]:
    """Where the config is looked up, in order."""
    if explicit:
        return [Path(explicit).expanduser()]
    paths: list[Path] = []
    if env := os.environ.get("INTERVIEWD_CONFIG"):
        return [Path(env).expanduser()]
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    paths.append(Path(xdg) / "interviewd" / "config.yaml")
    paths.append(SYSTEM_CONFIG)
    return paths


def find_config(explicit: str | None = None) -> Path:
    paths = candidate_paths(explicit)
    for path in paths:
        if path.is_file():
            return path
    if explicit or os.environ.get("INTERVIEWD_CONFIG"):
        raise ConfigError(
            "file not found; check the path, or run 'interviewd init' to write one",
            str(paths[0]),
        )
    looked = ", ".join(str(p) for p in paths)
    raise ConfigError(
        f"no config file found (looked in {looked}); pass --config PATH or copy "
        "config/interviewd.example.yaml there"
    )


def load_config(explicit: str | None = None) -> tuple[Config, Path]:
    path = find_config(explicit)
    return parse_config_file(path), path


def parse_config_file(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc.__class__.__name__}: {exc}", str(path)) from None
    return parse_config_text(text, str(path))


def parse_config_text(text: str, source: str = "<config>") -> Config:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"not valid YAML{where}: {problem}", source) from None
    if data is None:
        data = {}
    problems: list[str] = []
    config = _build(Config, data, "", problems)
    if config is not None:
        _check_semantics(config, problems)
    if problems:
        raise ConfigError(problems, source)
    assert config is not None
    return config


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, str(tp)
    )


def _build(cls: type, data: Any, path: str, problems: list[str]) -> Any:
    if not isinstance(data, Mapping):
        problems.append(f"{path or 'top level'}: expected a mapping, got {_yaml_kind(data)}")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key in data:
        if key not in fields:
            suggestion = _closest(str(key), list(fields))
            hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
            problems.append(f"{_join(path, str(key))}: unknown key{hint}")
    for name, f in fields.items():
        if name not in data:
            continue
        value = _convert(hints[name], data[name], _join(path, name), f.metadata, problems)
        if value is not _INVALID:
            values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:  # pragma: no cover - schema bug
        problems.append(f"{path}: {exc}")
        return None


_INVALID = object()


def _convert(
    tp: Any, value: Any, path: str, metadata: Mapping[str, Any], problems: list[str]
) -> Any:
    origin = typing.get_origin(tp)
    if origin is types.UnionType or origin is typing.Union:  # pragma: no cover - unused yet
        tp = typing.get_args(tp)[0]
        origin = typing.get_origin(tp)
    if origin is tuple:
        item_tp = typing.get_args(tp)[0]
        if value is None:
            return ()
        if isinstance(value, str) and item_tp is str:
            value = [value]
        if not isinstance(value, list):
            problems.append(f"{path}: expected {_type_name(tp)}, got {_yaml_kind(value)}")
            return _INVALID
        items = []
        for i, item in enumerate(value):
            if dataclasses.is_dataclass(item_tp):
                built = _build(item_tp, item, f"{path}[{i}]", problems)
            else:
                built = _convert(item_tp, item, f"{path}[{i}]", metadata, problems)
            if built is not _INVALID and built is not None:
                items.append(built)
        return tuple(items)
    if dataclasses.is_dataclass(tp):
        if value is None:
            return tp()
        built = _build(tp, value, path, problems)
        return _INVALID if built is None else built
    ok = True
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok:
            value = float(value)
    elif tp is str:
        if value is None:
            value = ""
        ok = isinstance(value, str)
    if not ok:
        problems.append(f"{path}: expected {_type_name(tp)}, got {_yaml_kind(value)} {value!r}")
        return _INVALID
    choices = metadata.get("choices")
    if choices and value not in choices:
        problems.append(f"{path}: {value!r} is not one of {', '.join(choices)}")
        return _INVALID
    minimum, maximum = metadata.get("minimum"), metadata.get("maximum")
    if minimum is not None and value < minimum:
        problems.append(f"{path}: {value:g} is below the minimum {minimum:g}")
        return _INVALID
    if maximum is not None and value > maximum:
        problems.append(f"{path}: {value:g} is above the maximum {maximum:g}")
        return _INVALID
    return value


def _check_semantics(config: Config, problems: list[str]) -> None:
    """Rules that span several keys."""
    if config.timezone:
        try:
            zoneinfo.ZoneInfo(config.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"timezone: unknown time zone {config.timezone!r}; use an IANA name such as "
                "'Europe/Berlin'"
            )
    names: set[str] = set()
    for i, account in enumerate(config.accounts):
        where = f"accounts[{i}]"
        # A key of this account already wrong: don't pile guesses on top of it.
        key_problem = any(p.startswith(f"{where}.") for p in problems)
        if not account.name:
            problems.append(f"{where}.name: required")
        elif account.name in names:
            problems.append(f"{where}.name: {account.name!r} is used by another account")
        names.add(account.name)
        if not key_problem:
            problems.extend(f"{where}.{p}" for p in account_problems(account))
    f = config.followups
    for key in ("workday_start", "quiet_hours_start", "quiet_hours_end"):
        value = getattr(f, key)
        if not _is_hhmm(value):
            problems.append(f"followups.{key}: {value!r} is not a time; use HH:MM, e.g. '09:00'")
    for i, day in enumerate(f.holidays):
        try:
            datetime.date.fromisoformat(day)
        except ValueError:
            problems.append(f"followups.holidays[{i}]: {day!r} is not a date; use YYYY-MM-DD")
    if f.thank_you_overdue_hours < f.thank_you_due_hours:
        problems.append(
            "followups.thank_you_overdue_hours: must not be below followups.thank_you_due_hours"
        )
    if f.second_check_in_days <= f.check_in_days:
        problems.append("followups.second_check_in_days: must be above followups.check_in_days")
    channel_names: set[str] = set()
    for i, channel in enumerate(config.alerts.channels):
        where = f"alerts.channels[{i}]"
        if not channel.name:
            problems.append(f"{where}.name: required")
        elif channel.name in channel_names:
            problems.append(f"{where}.name: {channel.name!r} is used by another channel")
        channel_names.add(channel.name)
        bad = [k for k in channel.kinds if k not in ALERT_KINDS]
        if bad:
            problems.append(
                f"{where}.kinds: unknown {', '.join(bad)}; use {', '.join(ALERT_KINDS)}"
            )
        if channel.type == "email":
            for key in ("smtp_host", "to_address"):
                if not getattr(channel, key):
                    problems.append(f"{where}.{key}: required for an email channel")
            if (
                channel.smtp_security == "none"
                and channel.smtp_host
                and not is_loopback(channel.smtp_host)
            ):
                problems.append(
                    f"{where}.smtp_security: 'none' is allowed only for a loopback host"
                )
    if not _is_hhmm(config.alerts.digest_time):
        problems.append(f"alerts.digest_time: {config.alerts.digest_time!r} is not HH:MM")
    if config.alerts.drafts == "imap" and not any(a.type == "imap" for a in config.accounts):
        problems.append("alerts.drafts: 'imap' needs an imap account to write drafts to")
    if bool(config.web.tls_cert) != bool(config.web.tls_key):
        problems.append("web.tls_key: set web.tls_cert and web.tls_key together, or neither")
    if config.sync.backoff_max_seconds < config.sync.backoff_initial_seconds:
        problems.append("sync.backoff_max_seconds: must not be below sync.backoff_initial_seconds")


def account_problems(account: AccountConfig) -> list[str]:
    problems: list[str] = []
    if account.type == "maildir":
        if not account.path:
            problems.append("path: required for a maildir account")
        return problems
    if not account.host:
        problems.append("host: required for an imap account")
    if not account.username:
        problems.append("username: required for an imap account")
    if account.security == "none" and account.host and not is_loopback(account.host):
        problems.append(
            f"security: 'none' sends your password in clear text; it is allowed only for a "
            f"loopback host, not {account.host!r}: use tls or starttls"
        )
    if not account.folders:
        problems.append("folders: give at least one folder, e.g. [INBOX]")
    return problems


def _is_hhmm(value: str) -> bool:
    try:
        datetime.time.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 5


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def _closest(word: str, options: list[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, options, n=1, cutoff=0.7)
    return match[0] if match else None
