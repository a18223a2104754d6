"""The logic of ``interviewd init``: from a mail address to a tested, commented config file.

Every answer can come from a flag, so init also runs without a terminal; the CLI only maps
flags to ``InitAnswers`` and passes a prompt function when it has a terminal. The login is
tested before anything is written, so a wrong password leaves no file and no stored secret.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .config import AccountConfig, ChannelConfig, Config, parse_config_text
from .config.loader import candidate_paths, is_loopback
from .config.sample import _comment, _describe, _scalar
from .errors import AuthenticationFailed, InterviewdError, SourceUnavailable, UsageError

#: ask(question, default) -> answer. A question containing "(not shown)" is a secret: read it
#: without echo (getpass).
Ask = Callable[[str, str], str]
SECRET_MARK = "(not shown)"
LOGIN_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class Provider:
    key: str
    name: str
    host: str
    port: int
    security: str
    domains: tuple[str, ...]
    note: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"


PROVIDERS: dict[str, Provider] = {
    p.key: p
    for p in (
        Provider(
            "gmail",
            "Gmail",
            "imap.gmail.com",
            993,
            "tls",
            ("gmail.com", "googlemail.com"),
            "Gmail refuses your normal password: turn on 2-step verification and use an app "
            "password, or use OAuth2 with oauth2_token_command",
            "smtp.gmail.com",
        ),
        Provider(
            "outlook",
            "Outlook / Microsoft 365",
            "outlook.office365.com",
            993,
            "tls",
            ("outlook.com", "hotmail.com", "live.com", "msn.com", "office365.com"),
            "Microsoft has turned off password logins for IMAP: use OAuth2 with "
            "oauth2_token_command (a token helper such as oama or mutt_oauth2.py)",
            "smtp.office365.com",
        ),
        Provider(
            "fastmail",
            "Fastmail",
            "imap.fastmail.com",
            993,
            "tls",
            ("fastmail.com", "fastmail.fm"),
            "use an app password (Settings > Privacy & Security > App passwords)",
            "smtp.fastmail.com",
            465,
            "tls",
        ),
        Provider(
            "icloud",
            "iCloud Mail",
            "imap.mail.me.com",
            993,
            "tls",
            ("icloud.com", "me.com", "mac.com"),
            "use an app-specific password from your Apple account settings",
            "smtp.mail.me.com",
        ),
        Provider(
            "yahoo",
            "Yahoo Mail",
            "imap.mail.yahoo.com",
            993,
            "tls",
            ("yahoo.com", "ymail.com", "rocketmail.com"),
            "use an app password (Account security > Generate app password)",
            "smtp.mail.yahoo.com",
            465,
            "tls",
        ),
        Provider(
            "proton",
            "Proton Mail Bridge",
            "127.0.0.1",
            1143,
            "starttls",
            ("proton.me", "protonmail.com", "protonmail.ch", "pm.me"),
            "Proton Mail Bridge must be running; use the password the Bridge shows (not your "
            "Proton password) and trust the Bridge's certificate (export it from its settings)",
            "127.0.0.1",
            1025,
        ),
        Provider("generic", "Other IMAP server", "", 993, "tls", ()),
    )
}
STORE_CHOICES = ("keyring", "credentials-dir:<path>", "none")
CHANNEL_CHOICES = ("desktop", "email", "apprise")


def detect_provider(address: str) -> Provider:
    """The provider of ``address`` by its domain; unknown domains get imap.<domain>."""
    domain = address.rpartition("@")[2].strip().lower()
    for provider in PROVIDERS.values():
        if domain in provider.domains:
            return provider
    generic = PROVIDERS["generic"]
    if not domain:
        return generic
    return dataclasses.replace(generic, host=f"imap.{domain}", smtp_host=f"smtp.{domain}")


@dataclass(frozen=True, slots=True)
class ChannelAnswer:
    """An alert channel as init asks it; ``secret_value`` (SMTP password or Apprise URL) goes
    to the secret store, never into the YAML."""

    name: str
    type: str = "desktop"
    to_address: str = ""
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_security: str = "starttls"
    smtp_username: str = ""
    secret_value: str = ""


@dataclass(frozen=True, slots=True)
class InitAnswers:
    """Answers to init's questions; None means "not given" (ask, or use the default)."""

    address: str | None = None
    provider: str | None = None
    host: str | None = None
    port: int | None = None
    security: str | None = None
    username: str | None = None
    password: str | None = None
    oauth2_token_command: str | None = None
    account_name: str | None = None
    secret_name: str | None = None
    store_secret_in: str | None = None
    channels: tuple[ChannelAnswer, ...] | None = None
    timezone: str | None = None
    output: Path | None = None
    overwrite: bool = False


#: Field -> the CLI flag that gives it (named in errors when there is no terminal).
FLAGS = {
    "address": "--address",
    "password": "--password-stdin (or --password-command / --oauth2-token-command)",
}


@dataclass(slots=True)
class InitReport:
    path: Path
    account: str
    host: str
    port: int
    security: str
    sent_folder: str | None
    drafts_folder: str | None
    secret_name: str
    secret_stored_in: str
    has_idle: bool
    notes: list[str] = field(default_factory=list)


def _provider_of(answers: InitAnswers) -> Provider:
    if answers.provider:
        if answers.provider not in PROVIDERS:
            raise UsageError(
                f"unknown provider {answers.provider!r}; use one of {', '.join(PROVIDERS)}"
            )
        chosen = PROVIDERS[answers.provider]
        if chosen.key == "generic":
            return detect_provider(answers.address or "")
        return chosen
    return detect_provider(answers.address or "")


def fill_defaults(answers: InitAnswers) -> InitAnswers:
    """Everything that has a sensible default, filled in; required answers stay None."""
    provider = _provider_of(answers)
    address = answers.address
    default_name = provider.key if provider.key != "generic" else "personal"
    account = answers.account_name or default_name
    output = answers.output or candidate_paths()[0]
    return dataclasses.replace(
        answers,
        provider=provider.key,
        host=answers.host or provider.host or None,
        port=answers.port if answers.port is not None else provider.port,
        security=answers.security or provider.security,
        username=answers.username or address,
        account_name=account,
        secret_name=answers.secret_name or f"imap-{account}",
        store_secret_in=answers.store_secret_in or "keyring",
        channels=answers.channels if answers.channels is not None else (),
        timezone=answers.timezone if answers.timezone is not None else "",
        output=Path(output).expanduser(),
    )


def missing_flags(answers: InitAnswers) -> list[str]:
    """Flags a non-interactive init still needs."""
    missing = []
    if not answers.address:
        missing.append(FLAGS["address"])
    if answers.password is None and not answers.oauth2_token_command:
        missing.append(FLAGS["password"])
    if not answers.host and not _provider_of(answers).host:
        missing.append("--host")
    return missing


def ask_missing(answers: InitAnswers, ask: Ask | None) -> InitAnswers:
    """Ask only what flags did not give; ``ask`` is None without a terminal, and then a
    missing required answer is a UsageError naming its flag."""
    if ask is None:
        missing = missing_flags(answers)
        if missing:
            raise UsageError(
                "no terminal to ask on; give " + ", ".join(missing) + " (see 'interviewd init "
                "--help')"
            )
        return fill_defaults(answers)
    if not answers.address:
        answers = dataclasses.replace(answers, address=ask("Your mail address", "").strip())
        if not answers.address:
            raise UsageError("a mail address is needed (--address)")
    provider = _provider_of(answers)
    if answers.host is None:
        host = ask(f"IMAP server ({provider.name})", provider.host).strip()
        answers = dataclasses.replace(answers, host=host or provider.host)
    if answers.port is None:
        answers = dataclasses.replace(answers, port=int(ask("IMAP port", str(provider.port))))
    if answers.security is None:
        security = ask("Security (tls, starttls, none)", provider.security).strip()
        answers = dataclasses.replace(answers, security=security or provider.security)
    if answers.username is None:
        username = ask("Login name", answers.address).strip()
        answers = dataclasses.replace(answers, username=username or answers.address)
    if answers.password is None and not answers.oauth2_token_command:
        if provider.note:
            ask(f"Note: {provider.note}. Press Enter", "")
        answers = dataclasses.replace(answers, password=ask("Password (not shown)", ""))
    if answers.store_secret_in is None:
        where = ask("Store the password in (keyring, credentials-dir:<path>, none)", "keyring")
        answers = dataclasses.replace(answers, store_secret_in=where.strip() or "keyring")
    if answers.channels is None:
        answers = dataclasses.replace(answers, channels=_ask_channels(answers, provider, ask))
    if answers.timezone is None:
        zone = ask("Time zone (IANA name; empty: the system's)", "").strip()
        answers = dataclasses.replace(answers, timezone=zone)
    if answers.output is None:
        default = str(candidate_paths()[0])
        answers = dataclasses.replace(
            answers, output=Path(ask("Write the config to", default).strip() or default)
        )
    return fill_defaults(answers)


def _ask_channels(answers: InitAnswers, provider: Provider, ask: Ask) -> tuple[ChannelAnswer, ...]:
    kinds = ask("Alert channels: desktop, email, apprise (comma-separated; empty for none)", "")
    channels: list[ChannelAnswer] = []
    for kind in (k.strip().lower() for k in kinds.split(",") if k.strip()):
        if kind not in CHANNEL_CHOICES:
            raise UsageError(f"unknown channel type {kind!r}; use {', '.join(CHANNEL_CHOICES)}")
        name = {"desktop": "laptop", "email": "mail", "apprise": "phone"}[kind]
        if kind == "email":
            channels.append(
                ChannelAnswer(
                    name,
                    "email",
                    to_address=ask("Send alerts to", answers.address or "").strip(),
                    smtp_host=ask("SMTP server", provider.smtp_host).strip(),
                    smtp_port=int(ask("SMTP port", str(provider.smtp_port))),
                    smtp_security=provider.smtp_security,
                    smtp_username=answers.username or answers.address or "",
                    secret_value=ask("SMTP password (not shown; empty: the IMAP password)", "")
                    or (answers.password or ""),
                )
            )
        elif kind == "apprise":
            url = ask("Apprise URL (not shown; e.g. ntfy://topic; stored as a secret)", "").strip()
            channels.append(ChannelAnswer(name, "apprise", secret_value=url))
        else:
            channels.append(ChannelAnswer(name, "desktop"))
    return tuple(channels)


def run_init(answers: InitAnswers) -> InitReport:
    """Test the login, store the secret(s), find Sent and Drafts, write the config (0600)."""
    from .secretstore import check_name

    if missing := missing_flags(answers):
        raise UsageError("missing " + ", ".join(missing))
    a = fill_defaults(answers)
    assert a.output is not None and a.host and a.security and a.username and a.account_name
    assert a.secret_name and a.store_secret_in is not None and a.channels is not None
    check_name(a.secret_name)
    if a.security == "none" and not is_loopback(a.host):
        raise UsageError(
            f"security 'none' would send your password in clear text to {a.host}; "
            "use tls or starttls (none is only for a loopback host)"
        )
    store = _parse_store(a.store_secret_in)
    if a.output.exists() and not a.overwrite:
        raise UsageError(f"{a.output} exists; pass --force to replace it")
    port = a.port or (993 if a.security == "tls" else 143)
    has_idle, sent, drafts = _test_login(a, port)
    provider = PROVIDERS.get(a.provider or "", PROVIDERS["generic"])
    notes = [provider.note] if provider.note and a.oauth2_token_command is None else []
    stored_in = "nowhere (oauth2_token_command)"
    if not a.oauth2_token_command:
        stored_in = _store(store, a.secret_name, a.password or "", notes)
    for channel in a.channels:
        if channel.type != "desktop" and channel.secret_value:
            _store(store, f"alert-{channel.name}", channel.secret_value, notes)
    text = render_config(a, port=port, sent=sent, drafts=drafts)
    parse_config_text(text, str(a.output))  # never write a file check-config would refuse
    _write_private(a.output, text, overwrite=a.overwrite)
    return InitReport(
        path=a.output,
        account=a.account_name,
        host=a.host,
        port=port,
        security=a.security,
        sent_folder=sent,
        drafts_folder=drafts,
        secret_name=a.secret_name,
        secret_stored_in=stored_in,
        has_idle=has_idle,
        notes=notes,
    )


def _parse_store(value: str) -> tuple[str, Path | None]:
    if value in ("keyring", "none"):
        return value, None
    if value.startswith("credentials-dir:") and value.partition(":")[2]:
        return "credentials-dir", Path(value.partition(":")[2]).expanduser()
    raise UsageError(f"--store {value!r}: use one of {', '.join(STORE_CHOICES)}")


def _store(store: tuple[str, Path | None], name: str, value: str, notes: list[str]) -> str:
    from .secretstore import set_secret, write_credential

    kind, directory = store
    if kind == "keyring":
        return set_secret(name, value)
    if kind == "credentials-dir":
        assert directory is not None
        path = write_credential(directory, name, value)
        notes.append(
            f"{name} is in {path}: set CREDENTIALS_DIRECTORY={directory} or add "
            f"LoadCredential={name}:{path} to the unit"
        )
        return str(path)
    notes.append(f"{name} was not stored: run 'interviewd secrets set {name}'")
    return "nowhere (--store none)"


def _test_login(a: InitAnswers, port: int) -> tuple[bool, str | None, str | None]:
    from .secrets import run_secret_command
    from .sources.imap import DRAFTS_FALLBACK_NAMES, ImapMailbox, ImapSettings

    assert a.host and a.security and a.username
    settings = ImapSettings(
        host=a.host,
        port=port,
        security=a.security,
        username=a.username,
        timeout=LOGIN_TIMEOUT,
        use_oauth2=bool(a.oauth2_token_command),
    )
    command = a.oauth2_token_command
    password = a.password or ""

    def credential() -> str:
        return run_secret_command(command, "oauth2 token") if command else password

    mailbox = ImapMailbox(settings, credential)
    try:
        mailbox.connect()
    except AuthenticationFailed as exc:
        raise InterviewdError(
            f"login failed, nothing written: {exc}. Check the password"
            + (
                f" ({PROVIDERS[a.provider].note})"
                if a.provider and PROVIDERS[a.provider].note
                else ""
            )
        ) from None
    except SourceUnavailable as exc:
        raise InterviewdError(
            f"cannot reach {a.host}:{port} ({a.security}), nothing written: {exc}; check "
            "--host, --port and --security"
        ) from None
    try:
        sent = mailbox.find_sent_folder()
        drafts = mailbox.find_special_folder(b"\\Drafts", DRAFTS_FALLBACK_NAMES)
        return mailbox.has_idle, sent, drafts
    finally:
        mailbox.close()


def _described(cls: type, name: str, value: object, indent: str) -> list[str]:
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    shown = list(value) if isinstance(value, tuple) else value
    return [*_comment(_describe(f), indent), f"{indent}{name}: {_scalar(shown)}"]


def render_config(a: InitAnswers, *, port: int, sent: str | None, drafts: str | None) -> str:
    """The config as commented YAML: only the chosen values, each with its schema comment."""
    lines = [
        "# interviewd configuration, written by 'interviewd init'.",
        "#",
        "# Only the values you chose are here; 'interviewd config sample' shows every key with",
        "# its default. Secrets are not in this file: see 'interviewd secrets check'.",
        "# Validate with 'interviewd check-config', test everything with 'interviewd doctor'.",
        "",
    ]
    if a.timezone:
        lines += [*_described(Config, "timezone", a.timezone, ""), ""]
    lines += ["accounts:"]
    item = "    "
    account: list[str] = []
    account += _described(AccountConfig, "name", a.account_name, item)
    account += _described(AccountConfig, "host", a.host, item)
    account += _described(AccountConfig, "port", port, item)
    account += _described(AccountConfig, "security", a.security, item)
    account += _described(AccountConfig, "username", a.username, item)
    if a.oauth2_token_command:
        account += _described(AccountConfig, "oauth2_token_command", a.oauth2_token_command, item)
    else:
        account += _described(AccountConfig, "secret", a.secret_name, item)
    account += _described(AccountConfig, "folders", ("INBOX",), item)
    account += _described(AccountConfig, "sent_folder", sent or "auto", item)
    if not sent:
        account.append(f"{item}# No Sent folder was found at init; 'auto' looks again at start.")
    if drafts:
        account.append(
            f"{item}# Drafts folder found: {drafts!r} (used only when alerts.drafts is 'imap')."
        )
    lines += [*_list_item(account, "  "), ""]
    if a.channels:
        lines += ["alerts:", "  channels:"]
        for channel in a.channels:
            lines += _render_channel(channel, a)
        lines.append("")
    return "\n".join(lines) + "\n"


def _render_channel(channel: ChannelAnswer, a: InitAnswers) -> list[str]:
    item = "      "
    out = _described(ChannelConfig, "name", channel.name, item)
    out += _described(ChannelConfig, "type", channel.type, item)
    if channel.type == "email":
        out += _described(ChannelConfig, "smtp_host", channel.smtp_host, item)
        if channel.smtp_port:
            out += _described(ChannelConfig, "smtp_port", channel.smtp_port, item)
        out += _described(ChannelConfig, "smtp_security", channel.smtp_security, item)
        out += _described(ChannelConfig, "smtp_username", channel.smtp_username, item)
        out += _described(ChannelConfig, "to_address", channel.to_address or a.address, item)
        out += _described(ChannelConfig, "from_address", channel.to_address or a.address, item)
    return _list_item(out, "    ")


def _list_item(lines: list[str], indent: str) -> list[str]:
    """Make key lines a YAML list item: the first key gets "- ", its comment sits with it."""
    first = next(i for i, line in enumerate(lines) if not line.lstrip().startswith("#"))
    head = [f"{indent}{line.lstrip()}" for line in lines[:first]]
    return [*head, f"{indent}- {lines[first].lstrip()}", *lines[first + 1 :]]


def _write_private(path: Path, text: str, *, overwrite: bool) -> None:
    """Write ``text`` readable by its owner alone; a new parent folder is made 0700."""
    parent = path.parent
    try:
        if not parent.exists():
            parent.mkdir(mode=0o700, parents=True)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(path, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} exists; pass --force to replace it") from None
    except OSError as exc:
        raise InterviewdError(f"cannot write {path}: {exc.strerror}") from None
