"""Tools for the fault and hostile-mail tests: a loopback TCP proxy, the daemon, the database.

Everything here stays on 127.0.0.1 and is bounded: the proxy accepts a limited number of
connections and shuts itself down after a fixed lifetime, every wait has a timeout.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from imapclient import IMAPClient

from servers import Dovecot

# -- a TCP proxy between the daemon and Dovecot ---------------------------------------------

_FETCH_LINE = re.compile(rb"^(\S+) UID FETCH (\S+) \((.*)\)\s*$", re.IGNORECASE)


def uid_set_size(uid_set: bytes) -> int:
    """How many UIDs an IMAP sequence set like ``1:5,9,12:13`` names (no ``*``)."""
    count = 0
    for part in uid_set.split(b","):
        low, _, high = part.partition(b":")
        count += abs(int(high or low) - int(low)) + 1
    return count


@dataclass
class FetchCommand:
    tag: bytes
    uid_set: bytes
    items: bytes

    @property
    def full_body(self) -> bool:
        """BODY.PEEK[] (the whole message), not BODY.PEEK[HEADER.FIELDS ...]."""
        return b"BODY.PEEK[]" in self.items.upper()

    @property
    def uids(self) -> int:
        return uid_set_size(self.uid_set)


@dataclass
class Cut:
    """One connection cut in the middle of a FETCH response."""

    command: FetchCommand
    forwarded: bytes  # the part of the response the client got before the cut


@dataclass
class _Link:
    client: socket.socket
    server: socket.socket
    black_holed: bool = False
    closed: bool = False
    pending_line: bytes = b""
    # set while a full-body FETCH whose response is to be cut is outstanding
    cut_command: FetchCommand | None = None
    cut_at: int = 0
    response: bytearray = field(default_factory=bytearray)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a loopback server, one thread per connection.

    Faults on demand:

    * :meth:`black_hole`: every open connection silently stops forwarding, both ways (what
      a laptop suspend or a NAT timeout does); bytes are read and dropped, nothing is closed.
      New connections are forwarded again, as after the network comes back.
    * :meth:`cut_next_fetches`: the next full-body FETCH responses are cut after a given
      number of bytes: the client gets part of the response, then the connection closes.
    * :meth:`hold_next`: the next command matching a pattern reaches the server late (to
      widen a race window on purpose).

    It also records every ``UID FETCH`` command the client sends.
    """

    def __init__(
        self,
        target_port: int,
        *,
        max_connections: int = 200,
        lifetime: float = 600.0,
    ) -> None:
        self.target = ("127.0.0.1", target_port)
        self.max_connections = max_connections
        self.deadline = time.monotonic() + lifetime
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self.accepted = 0
        self.fetches: list[FetchCommand] = []
        self.cuts: list[Cut] = []
        self._cut_offsets: list[int] = []
        self._pause: tuple[re.Pattern[bytes], float] | None = None
        self.paused = threading.Event()  # set when a held command is being held
        self._links: list[_Link] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._acceptor = threading.Thread(
            target=self._accept_loop, name="proxy-accept", daemon=True
        )
        self._acceptor.start()

    # -- control ------------------------------------------------------------------------

    def black_hole(self) -> int:
        """Stop forwarding on every open connection; returns how many were open."""
        with self._lock:
            live = [link for link in self._links if not link.closed]
            for link in live:
                link.black_holed = True
        return len(live)

    def cut_next_fetches(self, offsets: Iterable[int]) -> None:
        """Cut each of the next full-body FETCH responses after that many bytes."""
        with self._lock:
            self._cut_offsets.extend(offsets)

    def hold_next(self, pattern: bytes, seconds: float) -> None:
        """Hold the next client command matching the regex ``pattern`` back for a while."""
        assert 0 < seconds <= 30
        with self._lock:
            self.paused.clear()
            self._pause = (re.compile(pattern), seconds)

    @property
    def cuts_pending(self) -> int:
        with self._lock:
            return len(self._cut_offsets)

    def full_body_uids(self) -> int:
        """UIDs asked for with BODY.PEEK[] so far (a UID asked twice counts twice)."""
        with self._lock:
            return sum(f.uids for f in self.fetches if f.full_body)

    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for link in self._links if not link.closed)

    def close(self) -> None:
        self._stop.set()
        self._acceptor.join(5)
        for thread in list(self._threads):
            thread.join(5)
        with contextlib.suppress(OSError):
            self.listener.close()
        with self._lock:
            for link in self._links:
                self._close_link(link)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the work -------------------------------------------------------------------------

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self.deadline

    def _accept_loop(self) -> None:
        while self._running():
            try:
                client, _addr = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            if self.accepted >= self.max_connections:
                client.close()
                continue
            self.accepted += 1
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()  # the server is down: the client sees the connection drop
                continue
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
            thread = threading.Thread(
                target=self._pump, args=(link,), name=f"proxy-{self.accepted}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _close_link(self, link: _Link) -> None:
        link.closed = True
        for sock in (link.client, link.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def _pump(self, link: _Link) -> None:
        selector = selectors.DefaultSelector()
        selector.register(link.client, selectors.EVENT_READ, "up")
        selector.register(link.server, selectors.EVENT_READ, "down")
        try:
            while self._running() and not link.closed:
                for key, _mask in selector.select(timeout=0.2):
                    sock: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        if link.black_holed:
                            # A black hole never tells the other side anything.
                            selector.unregister(sock)
                            continue
                        return
                    if link.black_holed:
                        continue  # dropped, as by a dead network
                    if key.data == "up":
                        delay = self._client_data(link, data)
                        if delay:
                            self.paused.set()
                            time.sleep(delay)  # bounded: the caller gave the seconds
                        link.server.sendall(data)
                    elif not self._server_data(link, data):
                        return
        except OSError:
            return
        finally:
            selector.close()
            with self._lock:
                self._close_link(link)

    def _client_data(self, link: _Link, data: bytes) -> float:
        """Note the client's commands; the seconds to hold this data back (0: none)."""
        delay = 0.0
        lines = (link.pending_line + data).split(b"\r\n")
        link.pending_line = lines.pop()[-8192:]
        for line in lines:
            with self._lock:
                if self._pause is not None and self._pause[0].search(line):
                    delay, self._pause = self._pause[1], None
            m = _FETCH_LINE.match(line)
            if not m:
                continue
            command = FetchCommand(tag=m.group(1), uid_set=m.group(2), items=m.group(3))
            with self._lock:
                self.fetches.append(command)
                if command.full_body and self._cut_offsets and link.cut_command is None:
                    link.cut_command = command
                    link.cut_at = self._cut_offsets.pop(0)
                    link.response = bytearray()
        return delay

    def _server_data(self, link: _Link, data: bytes) -> bool:
        """Forward ``data`` to the client; False when the connection was cut."""
        if link.cut_command is None:
            link.client.sendall(data)
            return True
        room = link.cut_at - len(link.response)
        if len(data) < room:
            link.response += data
            link.client.sendall(data)
            return True
        part = data[: max(room, 0)]
        link.response += part
        if part:
            link.client.sendall(part)
        with self._lock:
            self.cuts.append(Cut(link.cut_command, bytes(link.response)))
        link.cut_command = None
        return False


# -- the daemon as a subprocess --------------------------------------------------------------


class DaemonProcess:
    """``interviewd run`` with its log in a file."""

    def __init__(self, config: Path, env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = open(log, "w")  # noqa: SIM115 - closed in stop()/kill()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "interviewd", "--config", str(config), "run"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float, after: int = 0) -> float:
        """Wait until the log, from offset ``after``, matches the regex ``pattern``."""
        rx = re.compile(pattern)

        def found() -> bool:
            if not self.alive():
                raise AssertionError(f"the daemon exited ({self.proc.returncode}):\n{self.log()}")
            return bool(rx.search(self.log()[after:]))

        return wait_for(found, timeout, f"{pattern!r} in the daemon's log")

    def peak_rss_mb(self) -> float:
        """The process's peak resident set size so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc status")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM; the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"no exit {timeout} s after SIGTERM:\n{self.log()}") from None
        finally:
            self._log.close()
        return code


@contextlib.contextmanager
def running_daemon(config: Path, env: dict[str, str], log: Path) -> Iterator[DaemonProcess]:
    daemon = DaemonProcess(config, env, log)
    try:
        yield daemon
    finally:
        if daemon.alive():
            daemon.proc.kill()
            daemon.proc.wait()
        daemon._log.close()


# -- config, mail and database helpers --------------------------------------------------------


def write_config(
    tmp_path: Path,
    port: int,
    *,
    db: Path | None = None,
    sync: dict[str, object] | None = None,
    store: dict[str, object] | None = None,
    extra: str = "",
    folders: str = "",
) -> Path:
    """A config for alice's account at 127.0.0.1:<port> (Dovecot or a proxy in front of it)."""
    db = db or tmp_path / "interviewd.db"
    sync_yaml = "".join(f"  {k}: {v}\n" for k, v in (sync or {}).items())
    path = tmp_path / "config.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            accounts:
              - name: work
                host: 127.0.0.1
                port: {port}
                security: none
                username: alice
            """
        )
        + (f"    folders: {folders}\n" if folders else "")
        + f"store:\n  url: sqlite:///{db}\n"
        + "".join(f"  {k}: {v}\n" for k, v in (store or {}).items())
        + (f"sync:\n{sync_yaml}" if sync_yaml else "")
        + extra
    )
    return path


FLAG_SUFFIXES = (":2,", ":2,S", ":2,F", ":2,RS", ":2,a", ":2,ST")


def deliver_with_flags(
    dovecot: Dovecot, user: str, messages: Iterable[bytes], folder: str = "INBOX"
) -> int:
    """Maildir delivery with a mix of flags (seen, flagged, answered, a keyword, none)."""
    box = dovecot.maildir(user, folder)
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    keywords = box / "dovecot-keywords"
    if not keywords.exists():
        keywords.write_text("0 $Label1\n")
    stamp = int(time.time())
    count = 0
    for count, raw in enumerate(messages, 1):
        suffix = FLAG_SUFFIXES[count % len(FLAG_SUFFIXES)]
        (box / "cur" / f"{stamp}.F{count}P{os.getpid()}.faults{suffix}").write_bytes(raw)
    for dirpath, _dirnames, filenames in os.walk(dovecot.root / "mail"):
        os.chown(dirpath, dovecot.uid, dovecot.gid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), dovecot.uid, dovecot.gid)
    return count


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_dovecot_like_systemd(dovecot: Dovecot) -> None:
    """Stop Dovecot and every process it started, as ``systemctl stop`` does (its cgroup).

    The fixture's ``stop()`` ends the master only; its imap processes go on serving the
    connections they have, so a client in IDLE would never notice the server went away.
    """
    assert dovecot.proc is not None
    leftovers = _descendants(dovecot.proc.pid)
    dovecot.stop()
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # an imap process says BYE and exits
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in leftovers):
        time.sleep(0.05)
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def maildir_flags(dovecot: Dovecot, user: str, folder: str = "INBOX") -> dict[str, str]:
    """Each message file's flags as Dovecot keeps them (the ``:2,`` suffix), by unique name.

    A flag changed over IMAP renames the file, so this sees any change, on every message.
    """
    box = dovecot.maildir(user, folder)
    found: dict[str, str] = {}
    for sub in ("new", "cur"):
        for path in (box / sub).glob("*"):
            unique, _, info = path.name.partition(":")
            found[unique] = info.removeprefix("2,")
    return found


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def query(db: Path, sql: str) -> list[tuple]:
    """Read the daemon's database from outside, as another process would."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def count(db: Path, sql: str = "select count(*) from messages") -> int:
    try:
        return int(query(db, sql)[0][0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def assert_exactly_once(db: Path, expected: int) -> None:
    """Every message stored once: rows == distinct Message-IDs == distinct identities == N."""
    rows = count(db)
    distinct_ids = count(db, "select count(distinct message_id) from messages")
    distinct_identities = count(db, "select count(distinct identity) from messages")
    assert (rows, distinct_ids, distinct_identities) == (expected, expected, expected)
    orphans = count(
        db,
        "select count(*) from message_locations l left join messages m on m.id = l.message_pk "
        "where m.id is null",
    )
    assert orphans == 0


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A size-limited tmpfs at ``path`` (needs root and a sandbox that allows mount)."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"cannot mount a tmpfs: {done.stderr.strip()}"
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill_disk(path: Path) -> Path:
    """Write a file until the file system at ``path`` has no space left."""
    filler = path / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
        small = b"\0" * 512
        try:
            while True:
                f.write(small)
        except OSError:
            pass
    return filler


def flags_of(client: IMAPClient, folder: str) -> dict[int, set[bytes]]:
    """Every message's flags (without \\Recent, which the server sets per session)."""
    client.select_folder(folder, readonly=True)
    found = {
        uid: set(data[b"FLAGS"]) - {b"\\Recent"}
        for uid, data in client.fetch(client.search(["ALL"]), ["FLAGS"]).items()
    }
    client.unselect_folder()
    return found
