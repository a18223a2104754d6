"""The exceptions interviewd raises, in one tree::

    InterviewdError                 base of everything below
    ├── ConfigError                 the config file is missing, unreadable or invalid (exit 2)
    ├── UsageError                  a command was called wrongly (exit 2)
    ├── SecretError                 a password or token could not be resolved
    ├── SourceError                 a mailbox could not be read
    │   ├── SourceUnavailable       network or protocol trouble: retried with backoff
    │   └── AuthenticationFailed    the server refused the login: fix the secret
    ├── ParseError                  one message could not be parsed: it is quarantined
    ├── ClassifierError             the model is missing or broken
    └── StoreError                  the database cannot be opened or migrated

Messages never contain a secret: they name where a secret comes from, never
its value.
"""

from __future__ import annotations


class InterviewdError(Exception):
    """Base class. ``str(exc)`` is one line meant for the user."""

    exit_code: int = 1


class ConfigError(InterviewdError):
    exit_code = 2

    def __init__(self, problems: list[str] | str, path: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.path = path
        where = f"{path}: " if path else ""
        if len(self.problems) == 1:
            text = f"{where}{self.problems[0]}"
        else:
            text = f"{where}{len(self.problems)} problems: " + "; ".join(self.problems)
        super().__init__(text)


class UsageError(InterviewdError):
    exit_code = 2


class SecretError(InterviewdError):
    exit_code = 2


class SourceError(InterviewdError):
    pass


class SourceUnavailable(SourceError):
    pass


class AuthenticationFailed(SourceError):
    pass


class ParseError(InterviewdError):
    pass


class ClassifierError(InterviewdError):
    pass


class StoreError(InterviewdError):
    pass
