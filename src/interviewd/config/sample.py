"""Render the schema as a commented sample YAML file and as a Markdown table."""

from __future__ import annotations

import dataclasses
import textwrap
import typing
from typing import Any

import yaml

from .schema import AccountConfig, ChannelConfig, Config

HEADER = """\
# interviewd configuration.
#
# Every key is shown with its default. Secrets (passwords, tokens) never go in
# this file: see 'interviewd secrets --help'. Validate with 'interviewd check-config'.
# This file is generated from the schema by 'interviewd config sample'.
"""

EXAMPLE_ACCOUNTS: tuple[AccountConfig, ...] = (
    AccountConfig(name="personal", host="imap.fastmail.com", username="me@example.com"),
    AccountConfig(name="local", type="maildir", path="~/Mail/work"),
)


EXAMPLE_CHANNELS: tuple[ChannelConfig, ...] = (
    ChannelConfig(name="laptop", type="desktop", kinds=("thank_you", "check_in")),
    ChannelConfig(name="phone", type="apprise", kinds=("offer", "rejection", "check_in")),
)


def _scalar(value: Any) -> str:
    dumped = yaml.safe_dump(value, default_flow_style=True).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(text, 78 - len(indent))]


def _describe(f: dataclasses.Field[Any]) -> str:
    md = f.metadata
    desc = md.get("description", "")
    if md.get("choices"):
        desc += f" One of: {', '.join(md['choices'])}."
    return desc


def render_yaml() -> str:
    lines = [HEADER]
    lines.extend(_render_class(Config(), ""))
    return "\n".join(lines) + "\n"


def _render_class(obj: Any, indent: str) -> list[str]:
    lines: list[str] = []
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        lines.extend(_comment(_describe(f), indent))
        if dataclasses.is_dataclass(value):
            lines.append(f"{indent}{f.name}:")
            lines.extend(_render_class(value, indent + "  "))
        elif f.name == "accounts":
            lines.append(f"{indent}{f.name}:")
            for account in EXAMPLE_ACCOUNTS:
                lines.extend(_render_list_item(account, indent + "  "))
        elif f.name == "channels":
            lines.append(f"{indent}{f.name}:")
            for channel in EXAMPLE_CHANNELS:
                lines.extend(_render_list_item(channel, indent + "  "))
        elif typing.get_origin(hints[f.name]) is tuple:
            lines.append(f"{indent}{f.name}: {_scalar(list(value))}")
        else:
            lines.append(f"{indent}{f.name}: {_scalar(value)}")
        lines.append("")
    return lines


def _render_list_item(obj: Any, indent: str) -> list[str]:
    """An example list entry: keys that differ from the default, the rest as comments."""
    default = type(obj)()
    lines: list[str] = []
    first = True
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        shown = list(value) if isinstance(value, tuple) else value
        prefix = f"{indent}- " if first else f"{indent}  "
        if value != getattr(default, f.name) or f.name in ("name", "type"):
            lines.append(f"{prefix}{f.name}: {_scalar(shown)}")
            first = False
    return lines


def render_markdown() -> str:
    rows = ["| key | default | meaning |", "|---|---|---|"]
    rows.extend(_markdown_rows(Config, ""))
    return "\n".join(rows) + "\n"


def _markdown_rows(cls: type, prefix: str) -> list[str]:
    rows: list[str] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            rows.extend(_markdown_rows(tp, key + "."))
            continue
        item = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else None
        if item is not None and dataclasses.is_dataclass(item):
            rows.append(f"| `{key}` | `[]` | {_describe(f)} |")
            rows.extend(_markdown_rows(item, key + "[]."))
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        shown = _scalar(list(default) if isinstance(default, tuple) else default)
        rows.append(f"| `{key}` | `{shown}` | {_describe(f).replace('|', '/')} |")
    return rows
