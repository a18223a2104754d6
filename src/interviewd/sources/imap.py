"""Reading an IMAP mailbox, strictly read-only.

Folders are opened with EXAMINE and bodies fetched with ``BODY.PEEK[]``, so no
flag of the user's mail ever changes. Every socket operation has a timeout;
every failure surfaces as ``SourceUnavailable`` (retry later) or
``AuthenticationFailed`` (fix the secret), never as a library exception.
"""

from __future__ import annotations

import contextlib
import imaplib
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from ..errors import AuthenticationFailed, SourceUnavailable

SENT_FALLBACK_NAMES = (
    "Sent",
    "Sent Items",
    "Sent Messages",
    "Sent Mail",
    "[Gmail]/Sent Mail",
    "INBOX.Sent",
    "INBOX/Sent",
)
DRAFTS_FALLBACK_NAMES = ("Drafts", "[Gmail]/Drafts", "INBOX.Drafts", "Draft")

NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes socket.timeout, ssl.SSLError, ConnectionError
    imaplib.IMAP4.abort,
    imaplib.IMAP4.error,
    IMAPClientError,
    EOFError,
)


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    port: int
    security: str  # tls | starttls | none
    username: str
    timeout: float
    use_oauth2: bool = False


@dataclass(frozen=True, slots=True)
class FolderInfo:
    name: str
    uidvalidity: int
    uidnext: int
    exists: int


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    uid: int
    raw: bytes
    gm_msgid: int | None
    size: int


def describe(exc: BaseException) -> str:
    """One line about a network or protocol error, for logs and status."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = exc.__class__.__name__
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{name}: {text}" if text else name


class ImapMailbox:
    """One authenticated connection to one IMAP account."""

    def __init__(self, settings: ImapSettings, credential: Callable[[], str]) -> None:
        self.settings = settings
        self._credential = credential
        self._client: IMAPClient | None = None
        self.capabilities: frozenset[bytes] = frozenset()
        self.selected: FolderInfo | None = None
        self._idling = False

    # -- connection --------------------------------------------------------

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise SourceUnavailable("not connected")
        return self._client

    @property
    def has_idle(self) -> bool:
        return b"IDLE" in self.capabilities

    @property
    def is_gmail(self) -> bool:
        return b"X-GM-EXT-1" in self.capabilities

    def connect(self) -> None:
        s = self.settings
        port = s.port or (993 if s.security == "tls" else 143)
        context = ssl.create_default_context()
        try:
            client = IMAPClient(
                s.host,
                port=port,
                ssl=s.security == "tls",
                ssl_context=context if s.security == "tls" else None,
                timeout=s.timeout,
                use_uid=True,
            )
        except NETWORK_ERRORS as exc:
            raise SourceUnavailable(f"{s.host}:{port}: {describe(exc)}") from None
        try:
            if s.security == "starttls":
                client.starttls(context)
            secret = self._credential()
            try:
                if s.use_oauth2:
                    client.oauth2_login(s.username, secret)
                else:
                    client.login(s.username, secret)
            except LoginError as exc:
                raise AuthenticationFailed(
                    f"{s.host}: login refused for {s.username}: {_login_reason(exc)}; "
                    "check the secret with 'interviewd secrets check'"
                ) from None
            finally:
                del secret
            self.capabilities = frozenset(client.capabilities())
        except BaseException as exc:
            _quiet_shutdown(client)
            if isinstance(exc, NETWORK_ERRORS) and not isinstance(exc, LoginError):
                raise SourceUnavailable(f"{s.host}:{port}: {describe(exc)}") from None
            raise
        self._client = client

    def close(self) -> None:
        client, self._client = self._client, None
        self.selected = None
        self._idling = False
        if client is None:
            return
        try:
            client.logout()
        except NETWORK_ERRORS:
            _quiet_shutdown(client)

    def abort(self) -> None:
        """Drop the connection at once (another thread may be blocked on it)."""
        client = self._client
        if client is not None:
            _quiet_shutdown(client)

    # -- folders -----------------------------------------------------------

    def list_folders(self) -> list[tuple[tuple[bytes, ...], str]]:
        with _errors(self.settings.host):
            return [(tuple(flags), name) for flags, _delim, name in self.client.list_folders()]

    def find_special_folder(self, flag: bytes, fallbacks: Sequence[str]) -> str | None:
        folders = self.list_folders()
        for flags, name in folders:
            if flag in flags:
                return name
        by_lower = {name.lower(): name for _flags, name in folders}
        for candidate in fallbacks:
            if candidate.lower() in by_lower:
                return by_lower[candidate.lower()]
        return None

    def find_sent_folder(self) -> str | None:
        return self.find_special_folder(b"\\Sent", SENT_FALLBACK_NAMES)

    def examine(self, folder: str) -> FolderInfo:
        """Open a folder read-only (EXAMINE)."""
        with _errors(self.settings.host):
            info = self.client.select_folder(folder, readonly=True)
        uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        uidnext = int(info.get(b"UIDNEXT", 0))
        exists = int(info.get(b"EXISTS", 0))
        self.selected = FolderInfo(folder, uidvalidity, uidnext, exists)
        return self.selected

    # -- messages ----------------------------------------------------------

    def uids_above(self, highest: int) -> list[int]:
        with _errors(self.settings.host):
            found = self.client.search(["UID", f"{highest + 1}:*"])
        # "N:*" always matches the last message, even when its UID is below N.
        return sorted(uid for uid in found if uid > highest)

    def uids_since(self, day: date) -> list[int]:
        with _errors(self.settings.host):
            return sorted(self.client.search(["SINCE", day]))

    def all_uids(self) -> list[int]:
        with _errors(self.settings.host):
            return sorted(self.client.search(["ALL"]))

    def fetch(self, uids: Sequence[int]) -> Iterator[FetchedMessage]:
        """Bodies with BODY.PEEK[] (never sets \\Seen), in UID order."""
        if not uids:
            return
        items = ["BODY.PEEK[]", "RFC822.SIZE"]
        if self.is_gmail:
            items.append("X-GM-MSGID")
        with _errors(self.settings.host):
            response = self.client.fetch(list(uids), items)
        for uid in sorted(response):
            data = response[uid]
            raw = data.get(b"BODY[]")
            if raw is None:  # expunged between SEARCH and FETCH
                continue
            gm = data.get(b"X-GM-MSGID")
            yield FetchedMessage(
                uid=uid,
                raw=bytes(raw),
                gm_msgid=int(gm) if gm is not None else None,
                size=int(data.get(b"RFC822.SIZE", len(raw))),
            )

    def fetch_header_ids(self, uids: Sequence[int]) -> dict[int, tuple[bytes, int | None, int]]:
        """Message-ID header, Gmail id and size per UID: cheap, for recognising known mail."""
        if not uids:
            return {}
        key = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"
        items = [key, "RFC822.SIZE"]
        if self.is_gmail:
            items.append("X-GM-MSGID")
        with _errors(self.settings.host):
            response = self.client.fetch(list(uids), items)
        result: dict[int, tuple[bytes, int | None, int]] = {}
        for uid, data in response.items():
            header = next((v for k, v in data.items() if k.startswith(b"BODY[HEADER.FIELDS")), b"")
            gm = data.get(b"X-GM-MSGID")
            result[uid] = (
                bytes(header or b""),
                int(gm) if gm is not None else None,
                int(data.get(b"RFC822.SIZE", 0)),
            )
        return result

    def find_drafts_folder(self) -> str | None:
        return self.find_special_folder(b"\\Drafts", DRAFTS_FALLBACK_NAMES)

    def append_draft(self, folder: str, raw: bytes) -> None:
        """APPEND a draft (flag \\Draft): the only write interviewd makes, and only when asked."""
        with _errors(self.settings.host):
            self.client.append(folder, raw, flags=(b"\\Draft",))

    def noop(self) -> None:
        with _errors(self.settings.host):
            self.client.noop()

    # -- push --------------------------------------------------------------

    def idle_wait(self, renew_after: float, stop: threading.Event, tick: float = 1.0) -> bool:
        """IDLE until the server reports a change, ``renew_after`` seconds pass, or ``stop``.

        Returns True when the server reported something. Ending IDLE waits for
        the server's answer under the socket timeout, so a dead connection
        raises ``SourceUnavailable`` here instead of hanging.
        """
        deadline = time.monotonic() + renew_after
        changed = False
        closed = ""
        with _errors(self.settings.host):
            self.client.idle()
            self._idling = True
            try:
                while not stop.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    responses = self.client.idle_check(timeout=min(tick, remaining))
                    # imapclient's idle_check swallows EOF and returns nothing, so a server
                    # that said BYE or hung up (a restart, a shutdown) went unnoticed until
                    # the next renewal, up to idle_renew_minutes later, while this loop spun
                    # on a socket that is always readable. Notice it at once instead: a
                    # readable socket that yields nothing twice is the end of the stream.
                    if not responses and _readable(self.client):
                        responses = self.client.idle_check(timeout=0)
                        if not responses:
                            closed = "the server closed the connection"
                            break
                    closed = _said_bye(responses)
                    if closed:
                        break
                    if any(_is_change(r) for r in responses):
                        changed = True
                        break
            finally:
                self._idling = False
                if not closed:
                    self.client.idle_done()
        if closed:
            raise SourceUnavailable(f"{self.settings.host}: {closed}")
        return changed


def _is_change(response: Any) -> bool:
    # (n, b"EXISTS"), (n, b"EXPUNGE"), (n, b"RECENT"), (n, b"FETCH", ...)
    return (
        isinstance(response, tuple)
        and len(response) >= 2
        and response[1]
        in (
            b"EXISTS",
            b"EXPUNGE",
            b"RECENT",
        )
    )


def _readable(client: IMAPClient) -> bool:
    try:
        return bool(select.select([client.socket()], [], [], 0)[0])
    except (OSError, ValueError):  # closed under us: let the next read say so
        return True


def _said_bye(responses: list[Any]) -> str:
    """The server's BYE (it is going away), as a reason; "" when there is none."""
    for response in responses:
        if isinstance(response, tuple) and response and response[0] == b"BYE":
            words = (
                w.decode("utf-8", "replace") if isinstance(w, bytes) else str(w)
                for w in response[1:]
            )
            return f"the server closed the connection: BYE {' '.join(words)}".strip()[:200]
    return ""


def _login_reason(exc: BaseException) -> str:
    text = str(exc).strip()
    # imapclient echoes the server's words; they never contain the password.
    return text.splitlines()[0][:200] if text else "authentication failed"


def _quiet_shutdown(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):  # the connection is being thrown away
        client.shutdown()


class _errors:
    """Turn library and socket exceptions into SourceUnavailable."""

    def __init__(self, host: str) -> None:
        self.host = host

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is not None and isinstance(exc, NETWORK_ERRORS):
            raise SourceUnavailable(f"{self.host}: {describe(exc)}") from exc
        return False
