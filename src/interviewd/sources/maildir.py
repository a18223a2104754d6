"""Reading a local Maildir (as kept by mbsync or offlineimap), read-only.

The root is the folder ``INBOX``; Maildir++ subfolders (``.Sent``) are the
other folders. Messages are read with ``get_bytes`` only, which never renames a
file, so flags stay exactly as they were.
"""

from __future__ import annotations

import mailbox
from pathlib import Path

from ..errors import SourceUnavailable

SENT_NAMES = ("sent", "sent items", "sent messages", "sent mail")


class MaildirMailbox:
    def __init__(self, path: str) -> None:
        self.path = Path(path).expanduser()
        self._root: mailbox.Maildir | None = None

    def open(self) -> None:
        if not (self.path / "cur").is_dir() or not (self.path / "new").is_dir():
            raise SourceUnavailable(
                f"{self.path} is not a Maildir (it needs cur/ and new/ folders)"
            )
        self._root = mailbox.Maildir(str(self.path), factory=None, create=False)

    @property
    def root(self) -> mailbox.Maildir:
        if self._root is None:
            self.open()
        assert self._root is not None
        return self._root

    def folders(self) -> list[str]:
        try:
            return ["INBOX", *sorted(self.root.list_folders())]
        except OSError as exc:
            raise SourceUnavailable(f"{self.path}: {exc.strerror}") from None

    def find_sent_folder(self) -> str | None:
        for name in self.folders()[1:]:
            if name.lower() in SENT_NAMES:
                return name
        return None

    def _folder(self, folder: str) -> mailbox.Maildir:
        return self.root if folder == "INBOX" else self.root.get_folder(folder)

    def keys(self, folder: str) -> list[str]:
        try:
            box = self._folder(folder)
            return sorted(box.iterkeys())
        except mailbox.NoSuchMailboxError:
            raise SourceUnavailable(f"{self.path}: no folder {folder!r}") from None
        except OSError as exc:
            raise SourceUnavailable(f"{self.path}: {exc.strerror}") from None

    def read(self, folder: str, key: str) -> bytes | None:
        """The raw message, or None when it vanished since it was listed."""
        try:
            return self._folder(folder).get_bytes(key)
        except KeyError:
            return None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SourceUnavailable(f"{self.path}: {exc.strerror}") from None
