"""Real servers for the tests: a throwaway Dovecot IMAP server and PostgreSQL cluster.

Both run on a free loopback port with their own config and data in a temporary
folder, and are stopped afterwards. Nothing here is mocked.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
mail_max_userip_connections = 100
imap_idle_notify_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Dovecot:
    """A Dovecot master running as root; mail processes run as the unprivileged dovenull."""

    def __init__(self, users: Iterable[tuple[str, str]] = (("alice", "alice-imap-pass"),)) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(binary):
            raise RuntimeError("dovecot is not installed; 'make test' installs dovecot-imapd")
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="interviewd-dovecot-"))
        os.chmod(self.root, 0o755)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.users = dict(users)
        nobody = pwd.getpwnam("dovenull")
        self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir()
        for sub in ("mail", "home"):
            os.chown(self.root / sub, self.uid, self.gid)
        (self.root / "passwd").write_text(
            "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items())
        )
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(
            DOVECOT_CONF.format(root=self.root, port=self.port, uid=self.uid, gid=self.gid)
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(self.port)
        except RuntimeError:
            self.stop()
            log = (
                (self.root / "dovecot.log").read_text()
                if (self.root / "dovecot.log").exists()
                else ""
            )
            raise RuntimeError(f"dovecot did not start: {log[-2000:]}") from None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        # Let child processes (imap, auth, ...) go before a restart reuses the port.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    time.sleep(0.05)
            except OSError:
                break

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        base = self.root / "mail" / user
        return base if folder == "INBOX" else base / f".{folder}"

    def deliver_files(self, user: str, messages: Iterable[bytes], folder: str = "INBOX") -> int:
        """Bulk delivery straight into the Maildir (fast set-up for big folders)."""
        box = self.maildir(user, folder)
        for sub in ("cur", "new", "tmp"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        count = 0
        stamp = int(time.time())
        for count, raw in enumerate(messages, 1):
            path = box / "cur" / f"{stamp}.M{count}P{os.getpid()}.test:2,"
            path.write_bytes(raw)
        for dirpath, _dirnames, filenames in os.walk(self.root / "mail"):
            os.chown(dirpath, self.uid, self.gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), self.uid, self.gid)
        return count


class Postgres:
    """A throwaway PostgreSQL cluster run by the unprivileged 'postgres' user."""

    def __init__(self) -> None:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not candidates:
            raise RuntimeError("PostgreSQL is not installed; 'make test' installs postgresql")
        self.bindir = candidates[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="interviewd-pg-"))
        os.chmod(self.root, 0o755)
        self.port = free_port()
        owner = pwd.getpwnam("postgres")
        self.uid, self.gid = owner.pw_uid, owner.pw_gid
        os.chown(self.root, self.uid, self.gid)
        self.data = self.root / "data"
        self.proc: subprocess.Popen[bytes] | None = None

    def _as_postgres(self) -> None:
        os.setgid(self.gid)
        os.setuid(self.uid)

    def start(self) -> None:
        subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "interviewd",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            preexec_fn=self._as_postgres,
        )
        self.proc = subprocess.Popen(
            [
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.root),
                "-F",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=self._as_postgres,
        )
        wait_port(self.port, 30)
        # The socket answers a little before the server accepts queries.
        for _ in range(100):
            done = subprocess.run(
                [
                    "psql",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "interviewd",
                    "-d",
                    "postgres",
                    "-c",
                    "select 1",
                ],
                capture_output=True,
            )
            if done.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept queries: {done.stderr.decode()[-500:]}")

    def create_database(self, name: str) -> str:
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "interviewd",
                "-d",
                "postgres",
                "-c",
                f'CREATE DATABASE "{name}"',
            ],
            check=True,
            capture_output=True,
        )
        return f"postgresql+psycopg://interviewd@127.0.0.1:{self.port}/{name}"

    def cleanup(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)
