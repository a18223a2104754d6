"""Storing secrets and checking that every secret the config needs can be found.

``interviewd secrets set`` writes to the keyring; a headless server usually has no keyring
daemon, and keyring's own error ("No recommended backend was available") does not say what
to do, so this module says which stores work there instead. Checks report where a secret was
found, never its value.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .errors import SecretError
from .health import CheckResult
from .logsetup import register_secret
from .secrets import KEYRING_SERVICE, _from_credentials, _from_keyring, run_secret_command

HEADLESS_HELP = (
    "no usable keyring here (no Secret Service or KWallet session); instead use systemd "
    "credentials ('systemd-creds encrypt' the secret and add LoadCredentialEncrypted=NAME:FILE "
    "to the unit), or 'pip install keyrings.alt' with "
    "PYTHON_KEYRING_BACKEND=keyrings.alt.file.EncryptedKeyring, or password_command in the config"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")


@dataclass(frozen=True, slots=True)
class SecretNeed:
    """One secret the config needs: a stored secret ``name`` or a ``command`` that prints it."""

    name: str
    purpose: str
    command: str = ""
    command_only: bool = False  # an OAuth2 token command: nothing is stored under ``name``


def check_name(name: str) -> str:
    """A secret name is also a file name under $CREDENTIALS_DIRECTORY: keep it plain."""
    if not _NAME.match(name):
        raise SecretError(
            f"secret name {name!r} is not usable: use letters, digits, '.', '_', '-' or '@' "
            "(e.g. imap-personal)"
        )
    return name


def _usable_keyring() -> object | None:
    """The keyring backend when one that can store exists, else None."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring config is the same as none
        return None
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def set_secret(name: str, value: str) -> str:
    """Store ``value`` in the keyring as ``name``; returns where it went (for the user)."""
    check_name(name)
    if not value:
        raise SecretError(f"secret {name!r}: the value is empty; nothing stored")
    backend = _usable_keyring()
    if backend is None:
        raise SecretError(f"cannot store {name!r}: {HEADLESS_HELP}")
    import keyring

    try:
        keyring.set_password(KEYRING_SERVICE, name, value)
    except Exception as exc:  # KeyringError or a backend's own: all mean the same here
        reason = exc.__class__.__name__
        raise SecretError(
            f"cannot store {name!r} in the keyring ({reason}): {HEADLESS_HELP}"
        ) from None
    register_secret(value)
    return f"keyring service {KEYRING_SERVICE!r} ({type(backend).__name__})"


def write_credential(directory: Path, name: str, value: str) -> Path:
    """Write ``value`` as ``directory/name`` (0600 in a 0700 folder): the file that a unit's
    ``LoadCredential=NAME:PATH`` or ``$CREDENTIALS_DIRECTORY`` reads."""
    check_name(name)
    if not value:
        raise SecretError(f"secret {name!r}: the value is empty; nothing stored")
    directory = Path(directory).expanduser()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(value + "\n")
        os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
    except OSError as exc:
        raise SecretError(f"cannot write {directory / name}: {exc.strerror}") from None
    register_secret(value)
    return path


def secret_needs(config: Config) -> list[SecretNeed]:
    """Every secret the config needs, in config order."""
    from .service import secret_name

    needs: list[SecretNeed] = []
    for account in config.accounts:
        if account.type != "imap":
            continue
        if account.oauth2_token_command:
            needs.append(
                SecretNeed(
                    f"oauth2-{account.name}",
                    f"account {account.name!r}: OAuth2 token",
                    account.oauth2_token_command,
                    command_only=True,
                )
            )
        else:
            needs.append(
                SecretNeed(
                    secret_name(account),
                    f"account {account.name!r}: IMAP password",
                    account.password_command,
                )
            )
    for channel in config.alerts.channels:
        if channel.type == "desktop":
            continue
        if channel.type == "email" and not channel.smtp_username:
            continue  # SMTP without login (a local relay): no password
        what = "SMTP password" if channel.type == "email" else "Apprise URL"
        needs.append(
            SecretNeed(
                channel.secret or f"alert-{channel.name}",
                f"channel {channel.name!r}: {what}",
                channel.password_command,
            )
        )
    return needs


def secret_names(config: Config) -> list[tuple[str, str]]:
    """(name, what it is for) of every secret the config needs; an OAuth2 account's name is
    ``oauth2-<account>`` and its token comes from oauth2_token_command, not a store."""
    return [(need.name, need.purpose) for need in secret_needs(config)]


def locate(need: SecretNeed) -> tuple[str, str | None]:
    """(where it was found, the value) or ("", None); a failing command raises SecretError."""
    if need.command_only:
        return "oauth2_token_command", run_secret_command(need.command, need.purpose)
    value = _from_credentials(need.name)
    if value:
        return "$CREDENTIALS_DIRECTORY", value
    value = _from_keyring(need.name)
    if value:
        return f"keyring service {KEYRING_SERVICE!r}", value
    if need.command:
        return "password_command", run_secret_command(need.command, f"secret {need.name!r}")
    return "", None


def check_secrets(config: Config) -> list[CheckResult]:
    """One result per needed secret: found and where, or how to provide it. Never the value."""
    results: list[CheckResult] = []
    for need in secret_needs(config):
        label = f"secret {need.name}"
        try:
            where, value = locate(need)
        except SecretError as exc:
            fix = (
                "fix oauth2_token_command so it prints a token"
                if need.command_only
                else f"fix password_command, or run 'interviewd secrets set {need.name}'"
            )
            results.append(CheckResult(label, False, f"{need.purpose}: {exc}", fix))
            continue
        if value:
            register_secret(value)
            results.append(CheckResult(label, True, f"{need.purpose}: found in {where}"))
            continue
        results.append(
            CheckResult(
                label,
                False,
                f"{need.purpose}: not in $CREDENTIALS_DIRECTORY, not in the keyring, "
                "no password_command",
                f"run 'interviewd secrets set {need.name}', or add "
                f"LoadCredential={need.name}:/path/to/file to the unit, or set password_command",
            )
        )
    return results
