"""The tracker's rules: ``derive(facts, now, rules, tz) -> Derived``.

Pure and deterministic: the output depends only on the arguments; facts may come in
any order. The rules are ``shared/domain/followup-rules.md``.

How it works: every fact is an event on a time line. ``_Timeline`` answers "what was
the status at instant t" from the facts up to t (a cancelled round counts as never
booked from its cancellation on); history is that status sampled at every event.
Follow-ups are then made from the contacts (employer messages about the process and
round ends) and closed by the earliest of the events that close them.

Cost: the status at an instant is a bisect into prefix tables built once per span between
round cancellations, so ``derive`` is O(n log n) in the facts (an application with 1,700
messages derives in ~30 ms). ``tests/reference_rules.py`` keeps the plain quadratic
version; a property test holds the two equal.

Choices where the spec is silent:

- Facts dated after ``now`` are ignored (as if not known yet).
- Status: the latest status-setting event wins (created -> applied, round booked ->
  scheduled, round ended -> interviewed, feedback -> awaiting_decision/advancing,
  offer, rejection); a scheduling message by itself sets no status (the round it books
  does). While any non-cancelled round is booked and not over, the status is
  ``scheduled`` unless an offer or rejection came later than that booking.
- A cancelled round is treated as never booked from its cancellation on, so the status
  returns to what the other facts give (the status before the booking, unless e.g.
  feedback arrived meanwhile); its thank-you is cancelled and its end is no contact.
- Manual statuses hold from their time until a later process event: for withdrawn and
  rejected only an offer, a scheduling message or a newly booked round reopens; for the
  other statuses any employer message about the process, a booked or an ended round.
  While a manual status holds, the application never turns silent.
- Silent: from max(last contact + silent_after_days, due time of the last check-in of
  that contact) until the next contact; only from applied/interviewed/awaiting/advancing.
  The check-in still open when silence starts is cancelled ("nudges stop").
- Thank-you: listed from the round's end (never before), PENDING with its future due.
  Any mail the user sent after the round ended completes it (even before the 24 h due
  time: the note is sent); a mail sent before the round ended completes nothing. It
  expires thank_you_expires_days calendar days after the round's end.
- Check-ins: a check-in is completed only by mail sent at or after its due time. The
  next check-in of the current count is listed ahead (PENDING, future due) so the
  scheduler knows when to alert; a check-in not yet due when a new contact arrives is
  simply dropped (it was never due). The promise used by a count is that of the latest
  employer message at or before the contact that started it; a promise whose check-in
  would fall at or before that contact is ignored (the default clock runs instead).
  Check-in k (k >= 2) falls k-1 times (second_check_in_days - check_in_days) after the
  first, or k-1 times second_check_in_after_promise_days after a promised one.
- Snooze: SNOOZED with alert_at = the snooze's end (moved out of quiet hours) until that
  end; then PENDING again with the same alert_at. Done/dismiss may be given ahead.
- Every alert_at is ``calendar.alert_time`` of the due time (or snooze end).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ..config.schema import FollowupConfig
from ..domain import MessageClass
from . import calendar as cal
from .facts import (
    CLOSED_STATUSES,
    ApplicationFacts,
    Derived,
    EmployerMessage,
    FollowUp,
    FollowUpKind,
    FollowUpState,
    ManualStatus,
    Round,
    StatusChange,
    UserAction,
    UserActionKind,
    UserMessage,
)
from .facts import Status as S

PROCESS_LABELS = frozenset(
    {MessageClass.SCHEDULING, MessageClass.FEEDBACK, MessageClass.REJECTION, MessageClass.OFFER}
)
#: Statuses in which the candidate waits for the employer: check-ins run, silence may come.
WAITING = frozenset({S.APPLIED, S.INTERVIEWED, S.AWAITING_DECISION, S.ADVANCING})
#: Statuses that end (cancel) a check-in.
CHECK_IN_STOPPERS = frozenset({S.SCHEDULED, S.OFFER, S.REJECTED, S.WITHDRAWN, S.SILENT})


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime in facts: {dt!r}")
    return dt.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class _Event:
    at: datetime
    order: int  # tie-break between events at the same instant
    reason: str
    message_pk: int | None = None


@dataclass(frozen=True, slots=True)
class _Facts:
    """The facts normalised: UTC, sorted, ``other`` mail and future facts left out."""

    created_at: datetime
    messages: tuple[EmployerMessage, ...]
    sent: tuple[UserMessage, ...]
    rounds: tuple[Round, ...]
    actions: tuple[UserAction, ...]
    manual: tuple[ManualStatus, ...]


def _normalise(facts: ApplicationFacts, now: datetime) -> _Facts:
    def fix_round(r: Round) -> Round:
        cancelled = _utc(r.cancelled_at) if r.cancelled_at else None
        if cancelled is not None and cancelled > now:
            cancelled = None  # not known yet
        return Round(r.round_pk, _utc(r.start), _utc(r.end), _utc(r.scheduled_at), cancelled)

    messages = sorted(
        (
            EmployerMessage(m.message_pk, _utc(m.at), m.label, m.promised, m.advancing)
            for m in facts.employer_messages
            if m.label in PROCESS_LABELS and _utc(m.at) <= now
        ),
        key=lambda m: (m.at, m.message_pk),
    )
    sent = sorted(
        (UserMessage(u.message_pk, _utc(u.at)) for u in facts.user_messages if _utc(u.at) <= now),
        key=lambda u: (u.at, u.message_pk),
    )
    rounds = sorted(
        (fix_round(r) for r in facts.rounds if _utc(r.scheduled_at) <= now),
        key=lambda r: (r.scheduled_at, r.round_pk),
    )
    actions = sorted(
        (
            UserAction(a.followup_key, a.kind, _utc(a.at), _utc(a.until) if a.until else None)
            for a in facts.actions
            if _utc(a.at) <= now
        ),
        key=lambda a: (a.at, a.followup_key, a.kind.value, a.until or a.at),
    )
    manual = sorted(
        (ManualStatus(m.status, _utc(m.at), m.reason) for m in facts.manual_statuses),
        key=lambda m: (m.at, m.status.value, m.reason),
    )
    return _Facts(
        _utc(facts.created_at),
        tuple(messages),
        tuple(sent),
        tuple(rounds),
        tuple(actions),
        tuple(m for m in manual if m.at <= now),
    )


class _Epoch:
    """The process events of one span between round cancellations, as prefix tables.

    Within such a span the rounds that count are fixed, so "the status at t" is a fold over
    the events up to t: the tables hold that fold at every event, and a query is a bisect.
    """

    def __init__(self, f: _Facts, rounds: list[Round]) -> None:
        # (instant, tie-break order, insertion order, status it sets, what it can end: 0
        # nothing, 1 an open manual status, 2 any manual status incl. withdrawn/rejected)
        events: list[tuple[datetime, int, int, S | None, int]] = [
            (f.created_at, 0, 0, S.APPLIED, 0)
        ]
        for r in rounds:
            events.append((r.scheduled_at, 1, len(events), S.SCHEDULED, 2))
            events.append((r.end, 2, len(events), S.INTERVIEWED, 1))
        for m in f.messages:
            reopens = 2 if m.label in (MessageClass.OFFER, MessageClass.SCHEDULING) else 1
            events.append((m.at, 3, len(events), _message_status(m), reopens))
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        self.ats = [e[0] for e in events]
        self.status: list[S] = []  # the latest status set up to and including event i
        self.ends: tuple[list[datetime | None], list[datetime | None]] = ([], [])
        status: S = S.APPLIED
        ends1: datetime | None = None  # the latest event that ends an open manual status
        ends2: datetime | None = None  # ... that ends any manual status
        for at, _, _, new, ends in events:
            if new is not None:
                status = new
            if ends >= 1:
                ends1 = at
            if ends >= 2:
                ends2 = at
            self.status.append(status)
            self.ends[0].append(ends1)
            self.ends[1].append(ends2)
        by_booking = sorted(rounds, key=lambda r: r.scheduled_at)
        self.booked = [r.scheduled_at for r in by_booking]
        self.latest_end: list[datetime] = []  # the latest end among the rounds booked so far
        for r in by_booking:
            self.latest_end.append(max(r.end, self.latest_end[-1]) if self.latest_end else r.end)


class _Timeline:
    """Status at any instant, from the facts known up to that instant."""

    def __init__(self, f: _Facts, rules: FollowupConfig, tz: ZoneInfo) -> None:
        self.f, self.rules, self.tz = f, rules, tz
        self.silences: list[tuple[datetime, datetime | None, str]] = []  # [start, end)
        #: Computed instants at which the answer may change (check-in dues, silence starts).
        self.instants: list[datetime] = []
        self._process: dict[datetime, tuple[S, bool]] = {}
        self._cancels = sorted({r.cancelled_at for r in f.rounds if r.cancelled_at is not None})
        self._epochs: dict[int, _Epoch] = {}
        self._manual_ats = [m.at for m in f.manual]
        self._events: list[_Event] | None = None
        self._event_ats: list[datetime] = []
        self._next_in: dict[frozenset[S], list[int]] = {}

    def day(self, dt: datetime) -> str:
        return cal.local_date(dt, self.tz).isoformat()

    def _epoch(self, t: datetime) -> _Epoch:
        k = bisect_right(self._cancels, t)  # cancellations at or before t
        if k not in self._epochs:
            gone = self._cancels[k - 1] if k else None
            rounds = [
                r
                for r in self.f.rounds
                if r.cancelled_at is None or gone is None or r.cancelled_at > gone
            ]
            self._epochs[k] = _Epoch(self.f, rounds)
        return self._epochs[k]

    def process_status(self, t: datetime) -> tuple[S, bool]:
        """Status from the process events up to ``t`` and the manual statuses, without silence.
        Returns (status, set_by_hand)."""
        if t not in self._process:
            self._process[t] = self._process_status(t)
        return self._process[t]

    def _process_status(self, t: datetime) -> tuple[S, bool]:
        ep = self._epoch(t)
        i = bisect_right(ep.ats, t) - 1  # the last event at or before t
        # The creation always counts, even when dated after t (then it is the latest event).
        status = ep.status[i] if i >= 0 and self.f.created_at <= t else S.APPLIED
        j = bisect_right(ep.booked, t)
        upcoming = j > 0 and ep.latest_end[j - 1] > t
        if upcoming and status not in (S.OFFER, S.REJECTED):
            status = S.SCHEDULED
        k = bisect_right(self._manual_ats, t)
        if k:
            last = self.f.manual[k - 1]
            ended_at = ep.ends[1 if last.status in CLOSED_STATUSES else 0][i] if i >= 0 else None
            if ended_at is None or ended_at <= last.at:
                return last.status, True
        return status, False

    def status(self, t: datetime) -> S:
        status, by_hand = self.process_status(t)
        if status in WAITING and not by_hand and self.silences:
            # Silences are disjoint and in order: only the last one started by t can hold.
            k = bisect_right(self.silences, t, key=lambda s: s[0])
            if k:
                _, end, _ = self.silences[k - 1]
                if end is None or t < end:
                    return S.SILENT
        return status

    def events(self) -> list[_Event]:
        """Every instant the status may change, with a reason a user understands.

        Made once, after the silences are known."""
        if self._events is not None:
            return self._events
        f, day = self.f, self.day
        out = [_Event(f.created_at, 0, "application created")]
        for r in f.rounds:
            start = cal.local_date(r.start, self.tz)
            out.append(_Event(r.scheduled_at, 1, f"interview round booked for {start}"))
            if r.cancelled_at is None or r.cancelled_at > r.end:
                out.append(_Event(r.end, 2, f"interview round of {start} ended"))
            if r.cancelled_at is not None:
                out.append(_Event(r.cancelled_at, 4, f"interview round of {start} cancelled"))
        for m in f.messages:
            out.append(_Event(m.at, 3, _describe_message(m, day(m.at)), m.message_pk))
        for ms in f.manual:
            out.append(_Event(ms.at, 5, f"{ms.reason} on {day(ms.at)}: {ms.status.value}"))
        for start, _, reason in self.silences:
            out.append(_Event(start, 6, reason))
        self._events = sorted(out, key=lambda e: (e.at, e.order, e.message_pk or 0, e.reason))
        self._event_ats = [e.at for e in self._events]
        return self._events

    def history(self, now: datetime) -> tuple[StatusChange, ...]:
        changes: list[StatusChange] = []
        current: S | None = None
        events = self.events()
        n = bisect_right(self._event_ats, now)
        i = 0
        while i < n:
            j = i
            while j + 1 < n and events[j + 1].at == events[i].at:
                j += 1
            new = self.status(events[i].at)
            if new != current:
                cause = events[j]
                changes.append(StatusChange(current, new, cause.at, cause.reason, cause.message_pk))
                current = new
            i = j + 1
        return tuple(changes)

    def first_in(self, start: datetime, statuses: frozenset[S]) -> tuple[datetime, str] | None:
        """The first instant at or after ``start`` when the status is in ``statuses``."""
        if self.status(start) in statuses:
            return start, f"application {self.status(start).value}"
        events = self.events()
        if statuses not in self._next_in:
            # next_in[i]: the first event at or after i whose instant has such a status
            nxt = [len(events)] * (len(events) + 1)
            for i in range(len(events) - 1, -1, -1):
                nxt[i] = i if self.status(events[i].at) in statuses else nxt[i + 1]
            self._next_in[statuses] = nxt
        i = self._next_in[statuses][bisect_right(self._event_ats, start)]
        return (events[i].at, events[i].reason) if i < len(events) else None


def _message_status(m: EmployerMessage) -> S | None:
    if m.label == MessageClass.FEEDBACK:
        return S.ADVANCING if m.advancing else S.AWAITING_DECISION
    if m.label == MessageClass.OFFER:
        return S.OFFER
    if m.label == MessageClass.REJECTION:
        return S.REJECTED
    return None  # scheduling: the round it books changes the status


def _describe_message(m: EmployerMessage, day: str) -> str:
    text = {
        MessageClass.SCHEDULING: "scheduling mail from the employer",
        MessageClass.FEEDBACK: "feedback from the employer",
        MessageClass.OFFER: "offer from the employer",
        MessageClass.REJECTION: "rejection from the employer",
    }[m.label]
    if m.label == MessageClass.FEEDBACK and m.advancing:
        text = "feedback from the employer: moving on to the next stage"
    extra = f": decision promised by {m.promised}" if m.promised else ""
    return f"{text} on {day}{extra}"


@dataclass(frozen=True, slots=True)
class _Contact:
    at: datetime
    epoch: str
    round_pk: int | None


def _contacts(f: _Facts, now: datetime) -> list[_Contact]:
    out = [_Contact(m.at, str(m.message_pk), None) for m in f.messages]
    out += [
        _Contact(r.end, f"r{r.round_pk}", r.round_pk)
        for r in f.rounds
        if r.cancelled_at is None and r.end <= now
    ]
    return sorted(out, key=lambda c: (c.at, c.round_pk is not None, c.epoch))


def _check_in_times(
    f: _Facts, contact: _Contact, rules: FollowupConfig, tz: ZoneInfo
) -> tuple[list[datetime], str]:
    """Due times of the check-ins of one epoch, and why."""
    n = rules.max_check_ins
    i = bisect_right(f.messages, contact.at, key=lambda m: m.at)  # messages up to the contact
    latest = f.messages[i - 1] if i else None
    promised = latest.promised if latest else None
    if (
        promised is not None
        and latest is not None
        and latest.label
        in (
            MessageClass.FEEDBACK,
            MessageClass.SCHEDULING,
        )
    ):
        first = cal.workday_start_after(promised, rules.promise_grace_business_days, rules, tz)
        if first > contact.at:
            step = rules.second_check_in_after_promise_days
            times = [cal.add_days(first, k * step, tz) for k in range(n)]
            return times, f"the employer promised news by {promised}"
    step = max(1, rules.second_check_in_days - rules.check_in_days)
    times = [cal.add_days(contact.at, rules.check_in_days + k * step, tz) for k in range(n)]
    day = cal.local_date(contact.at, tz)
    return times, f"no news since the last contact on {day}"


def _closing(
    candidates: list[tuple[datetime, int, FollowUpState, str, int | None]],
) -> tuple[datetime, int, FollowUpState, str, int | None] | None:
    return min(candidates, key=lambda c: (c[0], c[1])) if candidates else None


def _act(
    key: str, since: datetime, f: _Facts
) -> tuple[list[tuple[datetime, int, FollowUpState, str, int | None]], UserAction | None]:
    """Closing candidates from the user's done/dismiss on ``key``, and the last snooze."""
    out: list[tuple[datetime, int, FollowUpState, str, int | None]] = []
    snooze = None
    for a in f.actions:
        if a.followup_key != key or a.at < since:
            continue
        if a.kind == UserActionKind.DONE:
            out.append((a.at, 0, FollowUpState.DONE, "marked done", None))
        elif a.kind == UserActionKind.DISMISS:
            out.append((a.at, 0, FollowUpState.DISMISSED, "dismissed", None))
        elif a.until is not None:
            snooze = a
    return out, snooze


def _finish(
    base: FollowUp,
    candidates: list[tuple[datetime, int, FollowUpState, str, int | None]],
    snooze: UserAction | None,
    now: datetime,
    rules: FollowupConfig,
    tz: ZoneInfo,
) -> FollowUp:
    closing = _closing([c for c in candidates if c[0] <= now])
    alert = cal.alert_time(base.due, rules, tz)
    if closing is not None:
        at, _, state, why, pk = closing
        return _replace(base, state, f"{base.reason}; {why}", alert, at, pk)
    if snooze is not None and snooze.until is not None:
        alert = cal.alert_time(max(snooze.until, base.due), rules, tz)
        if snooze.until > now:
            return _replace(base, FollowUpState.SNOOZED, base.reason, alert, None, None)
    return _replace(base, FollowUpState.PENDING, base.reason, alert, None, None)


def _replace(
    f: FollowUp,
    state: FollowUpState,
    reason: str,
    alert: datetime,
    closed_at: datetime | None,
    pk: int | None,
) -> FollowUp:
    return FollowUp(
        f.key, f.kind, f.due, f.overdue, state, reason, f.round_pk, f.expires, alert, closed_at, pk
    )


def _thank_yous(
    f: _Facts, tl: _Timeline, now: datetime, rules: FollowupConfig, tz: ZoneInfo
) -> list[FollowUp]:
    out = []
    for r in f.rounds:
        if r.end > now or (r.cancelled_at is not None and r.cancelled_at <= r.end):
            continue  # not over yet, or cancelled before it took place
        if tl.process_status(r.end)[0] in CLOSED_STATUSES:
            continue
        key = f"thank_you:{r.round_pk}"
        day = cal.local_date(r.start, tz)
        base = FollowUp(
            key=key,
            kind=FollowUpKind.THANK_YOU,
            due=r.end + timedelta(hours=rules.thank_you_due_hours),
            overdue=r.end + timedelta(hours=rules.thank_you_overdue_hours),
            state=FollowUpState.PENDING,
            reason=f"thank-you note for the interview on {day}",
            round_pk=r.round_pk,
            expires=cal.add_days(r.end, rules.thank_you_expires_days, tz),
        )
        candidates, snooze = _act(key, r.end, f)
        # Only the first mail sent after the round can close it.
        k = bisect_right(f.sent, r.end, key=lambda u: u.at)
        sent = f.sent[k : k + 1]
        candidates += [
            (u.at, 1, FollowUpState.DONE, f"you wrote to them on {tl.day(u.at)}", u.message_pk)
            for u in sent
        ]
        if r.cancelled_at is not None:
            candidates.append((r.cancelled_at, 2, FollowUpState.CANCELLED, "round cancelled", None))
        closed = tl.first_in(r.end, CLOSED_STATUSES)
        if closed is not None:
            candidates.append((closed[0], 2, FollowUpState.CANCELLED, closed[1], None))
        assert base.expires is not None
        candidates.append((base.expires, 3, FollowUpState.EXPIRED, "not sent in time", None))
        out.append(_finish(base, candidates, snooze, now, rules, tz))
    return out


def _check_in_plan(
    f: _Facts, tl: _Timeline, now: datetime, rules: FollowupConfig, tz: ZoneInfo
) -> list[tuple[_Contact, int, datetime, str, datetime | None]]:
    """(contact, n, due, why, end of epoch) for every check-in that fell due (and the next one
    ahead in the current epoch); also records the silences on the timeline."""
    plan = []
    contacts = _contacts(f, now)
    for i, c in enumerate(contacts):
        nxt = contacts[i + 1].at if i + 1 < len(contacts) else None
        times, why = _check_in_times(f, c, rules, tz)
        silent_at = cal.add_days(c.at, rules.silent_after_days, tz)
        if times:
            silent_at = max(silent_at, times[-1])
        tl.instants.extend(times)
        tl.instants.append(silent_at)
        if silent_at <= now and (nxt is None or silent_at < nxt):
            reason = (
                f"no answer since the last contact on {tl.day(c.at)} "
                f"and {len(times)} check-in(s): silent (not a rejection)"
            )
            tl.silences.append((silent_at, nxt, reason))
        ahead = False
        for n, due in enumerate(times, start=1):
            if nxt is not None and due >= nxt:
                break
            if due > now:
                if nxt is None and not ahead and tl.process_status(now)[0] in WAITING:
                    plan.append((c, n, due, why, nxt))
                ahead = True
                break
            if tl.process_status(due)[0] in WAITING:
                plan.append((c, n, due, why, nxt))
    return plan


def _check_ins(
    f: _Facts, tl: _Timeline, now: datetime, rules: FollowupConfig, tz: ZoneInfo
) -> list[FollowUp]:
    plan = _check_in_plan(f, tl, now, rules, tz)
    out = []
    for i, (c, n, due, why, nxt) in enumerate(plan):
        key = f"check_in:{c.epoch}:{n}"
        base = FollowUp(
            key=key,
            kind=FollowUpKind.CHECK_IN if n == 1 else FollowUpKind.SECOND_CHECK_IN,
            due=due,
            overdue=None,
            state=FollowUpState.PENDING,
            reason=f"check-in {n}: {why}",
            round_pk=c.round_pk,
        )
        candidates, snooze = _act(key, c.at, f)
        k = bisect_left(f.sent, due, key=lambda u: u.at)
        sent = f.sent[k : k + 1]  # only the first mail sent at or after the due time can close it
        candidates += [
            (u.at, 1, FollowUpState.DONE, f"you wrote to them on {tl.day(u.at)}", u.message_pk)
            for u in sent
        ]
        if nxt is not None:
            candidates.append(
                (nxt, 2, FollowUpState.CANCELLED, "new contact from the employer", None)
            )
        later = plan[i + 1] if i + 1 < len(plan) else None
        if later is not None and later[0] == c:
            candidates.append((later[2], 2, FollowUpState.CANCELLED, "replaced by the next", None))
        stop = tl.first_in(due, CHECK_IN_STOPPERS)
        if stop is not None:
            candidates.append((stop[0], 3, FollowUpState.CANCELLED, stop[1], None))
        out.append(_finish(base, candidates, snooze, now, rules, tz))
    return out


def derive(facts: ApplicationFacts, now: datetime, rules: FollowupConfig, tz: ZoneInfo) -> Derived:
    """Status, history and follow-ups of one application at ``now``."""
    now = _utc(now)
    f = _normalise(facts, now)
    tl = _Timeline(f, rules, tz)
    check_ins = _check_ins(f, tl, now, rules, tz)  # also fills tl.silences
    followups = sorted(_thank_yous(f, tl, now, rules, tz) + check_ins, key=lambda x: (x.due, x.key))
    contacts = [c.at for c in _contacts(f, now)]
    return Derived(
        status=tl.status(now),
        history=tl.history(now),
        followups=tuple(followups),
        last_contact=max(contacts) if contacts else None,
        next_change=_next_change(facts, followups, tl.instants, now),
    )


def _next_change(
    facts: ApplicationFacts, followups: list[FollowUp], computed: list[datetime], now: datetime
) -> datetime | None:
    """The first instant after ``now`` at which ``derive`` may answer differently with the
    same facts: a fact dated later (known from then on), a follow-up's due, overdue, expiry or
    alert time, a snooze's end, a check-in falling due or a silence starting. Until then a
    recompute would change nothing (a property test holds it)."""
    instants = [facts.created_at, *computed]
    instants += [m.at for m in facts.employer_messages] + [u.at for u in facts.user_messages]
    for r in facts.rounds:
        instants += [r.scheduled_at, r.start, r.end]
        if r.cancelled_at is not None:
            instants.append(r.cancelled_at)
    for a in facts.actions:
        instants.append(a.at)
        if a.until is not None:
            instants.append(a.until)
    instants += [m.at for m in facts.manual_statuses]
    for f in followups:
        instants += [t for t in (f.due, f.overdue, f.expires, f.alert_at) if t is not None]
    return min((t for t in instants if _utc(t) > now), default=None)
