"""Parsing mail in worker processes during a big catch-up.

mail-parser is pure Python and costs about half a millisecond a message, most of a first
sync's time. For a catch-up of ``PARALLEL_MIN_MESSAGES`` or more, a pool of worker processes
(one per CPU core) parses each batch while the caller classifies and stores the batch before
it. The workers are spawned, not forked: they import the parser only (never spaCy, the
database or a thread of the daemon), and exit when the catch-up ends. Smaller catch-ups (IDLE,
polling) parse inline, since starting a pool costs about half a second.

Only this module knows about processes; callers see ``MailParser.submit``, which hands back
a function that returns one ``ParseOutcome`` per raw message, in order.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import TracebackType

from .domain import ParsedMessage
from .errors import ParseError
from .parsing import parse_message

log = logging.getLogger("interviewd.sync")

#: A catch-up of at least this many messages parses in worker processes.
PARALLEL_MIN_MESSAGES = 500


@dataclass(frozen=True, slots=True)
class ParseOutcome:
    """What parsing one raw message gave: the parsed message, or why not."""

    parsed: ParsedMessage | None
    error: str = ""
    #: The parser raised something other than ParseError (a parser bug, worth a debug log).
    crashed: bool = False


def parse_one(raw: bytes, max_body_chars: int) -> ParseOutcome:
    """Never raises: a bad message is an outcome with its error, to be quarantined."""
    try:
        return ParseOutcome(parse_message(raw, max_body_chars=max_body_chars))
    except ParseError as exc:
        return ParseOutcome(None, str(exc) or "unparseable message")
    except Exception as exc:  # a bad message must never stop a sync
        return ParseOutcome(None, f"parser failed: {exc.__class__.__name__}: {exc}"[:2000], True)


def parse_many(raws: Sequence[bytes], max_body_chars: int) -> list[ParseOutcome]:
    return [parse_one(raw, max_body_chars) for raw in raws]


Results = Callable[[], list[ParseOutcome]]


class MailParser:
    """Parses inline; ``ParallelMailParser`` below is the same with worker processes."""

    def __init__(self, max_body_chars: int) -> None:
        self.max_body_chars = max_body_chars

    def submit(self, raws: Sequence[bytes]) -> Results:
        """Start parsing ``raws``; the returned function waits for and returns the outcomes.

        Inline, the work happens when the results are asked for, so that a caller that
        submits the next batch before storing this one does the same work in the same order.
        """
        return lambda: parse_many(raws, self.max_body_chars)

    def close(self) -> None:
        pass

    def __enter__(self) -> MailParser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class ParallelMailParser(MailParser):
    """Parses in ``workers`` spawned processes; falls back to inline if the pool breaks."""

    def __init__(self, max_body_chars: int, workers: int) -> None:
        super().__init__(max_body_chars)
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )

    def submit(self, raws: Sequence[bytes]) -> Results:
        pool = self._pool
        if pool is None or len(raws) < 2:
            return super().submit(raws)
        step = -(-len(raws) // self.workers)  # one slice per worker
        slices = [raws[i : i + step] for i in range(0, len(raws), step)]
        try:
            with _main_not_imported():  # workers are spawned in submit(), when needed
                futures = [pool.submit(parse_many, part, self.max_body_chars) for part in slices]
        except (BrokenProcessPool, RuntimeError):
            self._broken()
            return super().submit(raws)

        def results() -> list[ParseOutcome]:
            outcomes: list[ParseOutcome] = []
            for part, future in zip(slices, futures, strict=True):
                outcomes.extend(self._result(future, part))
            return outcomes

        return results

    def _result(
        self, future: Future[list[ParseOutcome]], part: Sequence[bytes]
    ) -> list[ParseOutcome]:
        try:
            return future.result()
        except BrokenProcessPool:
            # A worker died (killed, out of memory): parse its share here, and go on inline.
            self._broken()
        except Exception as exc:
            # The outcomes could not come back (say, one would not pickle): parse this share
            # here, as without workers, so that no message is lost or blocks the folder.
            log.warning("a parser worker failed (%s); parsing its share here", exc)
        return parse_many(part, self.max_body_chars)

    def _broken(self) -> None:
        if self._pool is not None:
            log.warning("the parser worker processes stopped; parsing in the daemon instead")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_MAIN_LOCK = threading.Lock()


@contextlib.contextmanager
def _main_not_imported() -> Iterator[None]:
    """Spawn workers that do not import the program's ``__main__`` file.

    multiprocessing's spawn runs the parent's main script again in each child (as
    ``__mp_main__``) unless it is a ``-m`` module; a script that calls interviewd from its
    top level would then run again in every worker. The workers need only this module.
    """
    main = sys.modules.get("__main__")
    with _MAIN_LOCK:
        if main is None or not hasattr(main, "__file__"):
            yield
            return
        spec, path = getattr(main, "__spec__", None), main.__file__
        try:
            main.__spec__ = None
            del main.__file__
            yield
        finally:
            main.__spec__, main.__file__ = spec, path


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit as soon as the daemon is gone (after a kill -9 nobody shuts the pool
    down, and a worker waiting for work would otherwise live on)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def parser_for(messages: int, max_body_chars: int, parallel: bool = True) -> MailParser:
    """The parser for a catch-up of ``messages``: worker processes when it is big enough,
    parallel parsing is allowed and there is more than one CPU core to use."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if parallel and messages >= PARALLEL_MIN_MESSAGES and (cores or 1) > 1:
        return ParallelMailParser(max_body_chars, workers=cores or 2)
    return MailParser(max_body_chars)
