"""The database adapter: schema, migrations and the operations the service needs."""

from .db import database_url, default_database_path, redact_url
from .repository import FolderState, IncomingMessage, SaveResult, Store

__all__ = [
    "FolderState",
    "IncomingMessage",
    "SaveResult",
    "Store",
    "database_url",
    "default_database_path",
    "redact_url",
]
