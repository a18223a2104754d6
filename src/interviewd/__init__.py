"""interviewd: watches your mailboxes and keeps the follow-up clocks of every job interview."""

__version__ = "0.1.0"
