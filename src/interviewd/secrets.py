"""Resolve passwords and tokens without ever keeping them in config, logs or the database.

Lookup order for a secret NAME: ``$CREDENTIALS_DIRECTORY/NAME`` (systemd
``LoadCredential=``), then the keyring (service ``interviewd``, user NAME), then
a configured command. Errors name where a secret was looked for, never its value.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import SecretError
from .logsetup import register_secret

KEYRING_SERVICE = "interviewd"


@dataclass(frozen=True, slots=True)
class SecretSpec:
    name: str
    command: str = ""


def _from_credentials(name: str) -> str | None:
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    path = Path(directory) / name
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SecretError(f"secret {name!r}: cannot read {path}: {exc.strerror}") from None


def _from_keyring(name: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError, NoKeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, name)
    except NoKeyringError:
        return None
    except KeyringError:
        return None
    except Exception:  # a broken keyring backend must not stop the lookup
        return None


def run_secret_command(command: str, what: str, timeout: float = 30) -> str:
    try:
        done = subprocess.run(
            shlex.split(command),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise SecretError(f"{what}: command not found: {shlex.split(command)[0]!r}") from None
    except subprocess.TimeoutExpired:
        raise SecretError(f"{what}: command took longer than {timeout:g} s") from None
    except ValueError as exc:
        raise SecretError(f"{what}: cannot split the command line: {exc}") from None
    if done.returncode != 0:
        # stderr may echo a secret; report only the status.
        raise SecretError(f"{what}: command exited with status {done.returncode}")
    value = done.stdout.rstrip("\r\n")
    if not value:
        raise SecretError(f"{what}: command printed nothing")
    register_secret(value)
    return value


def resolve(spec: SecretSpec) -> str:
    value = _from_credentials(spec.name)
    if value is None:
        value = _from_keyring(spec.name)
    if value is None and spec.command:
        value = run_secret_command(spec.command, f"secret {spec.name!r}")
    if not value:
        raise SecretError(
            f"secret {spec.name!r} not found in $CREDENTIALS_DIRECTORY or the keyring; "
            f"store it with 'interviewd secrets set {spec.name}' or set password_command"
        )
    register_secret(value)
    return value
