"""The ``interviewd`` command line: a thin layer over the service module."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import Config, load_config
from .errors import ConfigError, InterviewdError, UsageError

log = logging.getLogger("interviewd")

Handler = Callable[[argparse.Namespace], int]


def _setup_logging(level: str, args: argparse.Namespace, *, daemon: bool = False) -> None:
    """Logs go to standard output for the daemon (journald), standard error otherwise."""
    from .logsetup import setup_logging

    if args.verbose:
        level = "debug"
    elif args.quiet:
        level = "warning"
    elif args.log_level:
        level = args.log_level
    setup_logging(level, args.log_format, sys.stdout if daemon else sys.stderr)


def _config(args: argparse.Namespace) -> tuple[Config, Path]:
    config, path = load_config(args.config)
    _setup_logging(config.log_level, args, daemon=args.handler is cmd_run)
    return config, path


def _json_out(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=None, default=str)
    sys.stdout.write("\n")


# -- commands -------------------------------------------------------------


def cmd_check_config(args: argparse.Namespace) -> int:
    config, path = _config(args)
    if args.json:
        _json_out({"ok": True, "path": str(path), "accounts": [a.name for a in config.accounts]})
    else:
        print(f"{path}: valid ({len(config.accounts)} account(s))")
    return 0


def cmd_config_sample(args: argparse.Namespace) -> int:
    from .config.sample import render_markdown, render_yaml

    sys.stdout.write(render_markdown() if args.markdown else render_yaml())
    return 0


def _progress_printer() -> Callable[[str, str, int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(account: str, folder: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{account}/{folder} [{bar}] {done}/{total}{end}")
        sys.stderr.flush()

    return show


def cmd_sync(args: argparse.Namespace) -> int:
    from .service import SyncReport, load_classifier, open_store, sync_all_once

    if not args.once:
        raise UsageError("sync needs --once (use 'interviewd run' for the daemon)")
    config, _path = _config(args)
    accounts = _select_accounts(config, args.account)
    classifier = load_classifier(config)
    store = open_store(config)
    try:
        results = sync_all_once(
            config, store, accounts=accounts, progress=_progress_printer(), classifier=classifier
        )
        from .applications import TrackingService

        TrackingService(config, store).process_new_messages()
    finally:
        store.close()
    failed = {name: r for name, r in results.items() if isinstance(r, str)}
    if args.json:
        _json_out(
            {
                name: (
                    {"error": r}
                    if isinstance(r, str)
                    else {
                        "stored": r.stored,
                        "located": r.located,
                        "quarantined": r.quarantined,
                        "folders": r.folders,
                    }
                )
                for name, r in results.items()
            }
        )
    else:
        for name, r in results.items():
            if isinstance(r, SyncReport):
                print(
                    f"{name}: {r.stored} new, {r.quarantined} quarantined, "
                    f"{r.located} already known ({', '.join(r.folders)})"
                )
            else:
                print(f"{name}: error: {r}", file=sys.stderr)
    return 1 if failed else 0


def _select_accounts(config: Config, names: list[str] | None) -> list[Any]:
    if not config.accounts:
        raise ConfigError("accounts: no account configured; add one under 'accounts:'")
    if not names:
        return list(config.accounts)
    known = {a.name: a for a in config.accounts}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown account {', '.join(unknown)}; configured: {', '.join(known)}")
    return [known[n] for n in names]


def cmd_run(args: argparse.Namespace) -> int:
    from .daemon import Daemon
    from .service import load_classifier, open_store

    config, path = _config(args)
    _select_accounts(config, None)
    classifier = load_classifier(config)
    store = open_store(config)
    daemon = Daemon(
        config,
        store,
        classifier=classifier,
        template_dir=_template_dir(str(path)),
        config_path=path,
        on_reload=lambda new: _setup_logging(new.log_level, args, daemon=True),
    )
    daemon.install_signal_handlers()
    log.info("interviewd %s starting with %s", __version__, path)
    daemon.run_forever()
    return 0


def message_json(m: Any) -> dict[str, Any]:
    return {
        "id": m.id,
        "account": m.account,
        "folder": m.folder,
        "date": m.date.isoformat() if m.date else None,
        "from": {"name": m.from_name, "email": m.from_email},
        "subject": m.subject,
        "message_id": m.message_id,
        "from_user": m.from_user,
        "status": m.status,
        "error": m.error or None,
        "label": m.label,
        "confidence": m.confidence,
        "needs_review": m.needs_review,
    }


def cmd_messages(args: argparse.Namespace) -> int:
    from .service import open_store

    if args.limit < 1:
        raise UsageError("--limit must be 1 or more")
    config, _path = _config(args)
    store = open_store(config)
    try:
        rows = store.recent_messages(args.limit)
    finally:
        store.close()
    if args.json:
        _json_out([message_json(m) for m in rows])
        return 0
    if not rows:
        print("no messages stored yet; run 'interviewd sync --once'")
        return 0
    _print_messages(rows)
    return 0


def _print_messages(rows: list[Any]) -> None:
    for m in rows:
        when = m.date.strftime("%Y-%m-%d %H:%M") if m.date else "????-??-?? --:--"
        who = "me" if m.from_user else (m.from_name or m.from_email or "?")
        if m.status == "quarantined":
            label = "QUARANTINED"
        elif m.label:
            label = f"{m.label} {m.confidence:.2f}" + ("?" if m.needs_review else "")
        else:
            label = "-"
        print(f"{m.id:>6}  {when}  {label:<16} {who[:24]:<24}  {m.subject[:60]}")
        if m.status == "quarantined":
            print(f"{'':>8}quarantined: {m.error}")


def _classifier_for(args: argparse.Namespace) -> Any:
    """The model for commands that must work without a config file."""
    from .service import load_classifier

    if args.model:
        from .config.schema import ClassifierConfig

        config = Config(classifier=ClassifierConfig(model=args.model))
    elif args.config or _config_exists():
        config, _path = _config(args)
    else:
        config = Config()
    return load_classifier(config)


def _config_exists() -> bool:
    from .config import candidate_paths

    return any(p.is_file() for p in candidate_paths(None))


def _eml_paths(paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        p = Path(path)
        if path != "-" and p.is_dir():
            found.extend(str(f) for f in sorted(p.rglob("*.eml")) if f.is_file())
        else:
            found.append(path)
    return found


def _read_message(path: str) -> tuple[str, str]:
    """(subject, text) of one .eml file or standard input; raises ParseError with the reason."""
    from .errors import ParseError
    from .parsing import parse_message

    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise ParseError("no such file") from None
    except IsADirectoryError:
        raise ParseError("is a directory") from None
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}") from None
    if not raw.strip():
        raise ParseError("empty file")
    if b"\x00" in raw[:8192]:
        raise ParseError("binary data, not an RFC 5322 message")
    parsed = parse_message(raw)
    if not (parsed.subject or parsed.sender or parsed.message_id or parsed.date):
        raise ParseError("no mail headers found; is this an .eml file?")
    return parsed.subject, parsed.text


def cmd_classify(args: argparse.Namespace) -> int:
    from .errors import ParseError

    classifier = _classifier_for(args)
    paths = _eml_paths(args.paths)
    readable: list[tuple[str, tuple[str, str]]] = []
    errors: dict[str, str] = {}
    for path in paths:
        try:
            readable.append((path, _read_message(path)))
        except ParseError as exc:
            errors[path] = str(exc)
    # One model call for every readable file: much faster than one call a file.
    results = dict(
        zip(
            (p for p, _ in readable),
            classifier.classify_many([item for _, item in readable]),
            strict=True,
        )
    )
    for path in paths:
        if path in errors:
            if args.json:
                _json_out({"path": path, "error": errors[path]})
            else:
                print(f"{path}\terror: {errors[path]}", file=sys.stderr)
            continue
        result = results[path]
        if args.json:
            _json_out(
                {
                    "path": path,
                    "label": result.label.value,
                    "confidence": round(result.confidence, 4),
                    "scores": {k: round(v, 4) for k, v in result.scores.items()},
                }
            )
        else:
            review = "  (needs review)" if result.needs_review else ""
            print(f"{path}\t{result.label.value}\t{result.confidence:.2f}{review}")
    return 1 if errors else 0


def cmd_review(args: argparse.Namespace) -> int:
    from .service import open_store

    config, _path = _config(args)
    store = open_store(config)
    try:
        rows = store.review_queue(args.limit)
    finally:
        store.close()
    if args.json:
        _json_out([message_json(m) | {"scores": m.scores} for m in rows])
        return 0
    if not rows:
        print("nothing waits for review")
        return 0
    _print_messages(rows)
    print(f"\n{len(rows)} message(s) need review: 'interviewd label ID LABEL' corrects one")
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    tracking, store, _ = _tracking(args)
    try:
        updated = tracking.relabel(args.message, args.label)
    finally:
        store.close()
    if args.json:
        _json_out(message_json(updated))
    else:
        print(f"{updated.id}: {updated.subject[:60]!r} is now {updated.label}")
    return 0


def cmd_model_train(args: argparse.Namespace) -> int:
    from .service import personal_model_path
    from .textcat import shipped_model_path
    from .textcat.train import format_report, train_model

    extra: list[tuple[str, str, str]] = []
    if args.with_corrections:
        from .service import open_store

        config, _path = _config(args)
        store = open_store(config)
        try:
            extra = store.corrections()
        finally:
            store.close()
        if not extra:
            raise UsageError("no corrections yet; 'interviewd label ID LABEL' records one")
        output = Path(args.output) if args.output else personal_model_path()
    else:
        output = Path(args.output) if args.output else shipped_model_path()
    if args.with_corrections and output.resolve() == shipped_model_path().resolve():
        raise UsageError("a personal model never overwrites the shipped one; pick --output")
    metrics = train_model(output, extra=extra)
    print(format_report(metrics))
    print(f"model written to {output}")
    return 0


def cmd_model_evaluate(args: argparse.Namespace) -> int:
    from .textcat.train import evaluate_model, format_report

    if args.model:
        model = Path(args.model)
    elif args.config or _config_exists():
        from .service import resolve_model_path

        config, _path = _config(args)
        model = resolve_model_path(config)
    else:
        from .textcat import shipped_model_path

        model = shipped_model_path()
    metrics = evaluate_model(model)
    if args.json:
        _json_out(metrics)
    else:
        print(format_report(metrics))
    return 0


def _when(text: str, config: Config, what: str) -> Any:
    """A time from the command line: ISO 8601 or plain words, in the configured zone."""
    from datetime import datetime

    from .applications import local_zone

    tz = local_zone(config)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        import dateparser

        value = dateparser.parse(
            text,
            settings={
                "TIMEZONE": str(tz),
                "RETURN_AS_TIMEZONE_AWARE": True,
                "PREFER_DATES_FROM": "future",
            },
        )
        if value is None:
            raise UsageError(
                f"{what}: cannot read {text!r} as a time; use e.g. '2026-11-05 14:00'"
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value


def _duration(text: str) -> Any:
    from datetime import timedelta

    match = re.fullmatch(r"\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*", text or "")
    if text.strip().isdigit():
        return timedelta(minutes=int(text))
    if not match or not any(match.groups()):
        raise UsageError(f"--duration: cannot read {text!r}; use e.g. 45m, 1h or 1h30m")
    return timedelta(hours=int(match.group(1) or 0), minutes=int(match.group(2) or 0))


def _tracking(args: argparse.Namespace) -> tuple[Any, Any, Config]:
    from .applications import TrackingService
    from .service import open_store

    config, _path = _config(args)
    store = open_store(config)
    return TrackingService(config, store), store, config


def _local(value: Any, config: Config) -> str:
    from .applications import local_zone

    if value is None:
        return "-"
    from datetime import datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(local_zone(config)).strftime("%a %d %b %H:%M")


def cmd_interviews(args: argparse.Namespace) -> int:
    tracking, store, config = _tracking(args)
    try:
        at = _when(args.at, config, "--at") if args.at else None
        rows = tracking.board(at)
    finally:
        store.close()
    if args.json:
        _json_out(
            [
                {
                    "id": r.application_pk,
                    "company": r.company,
                    "role": r.role,
                    "status": r.status,
                    "round": r.round,
                    "last_contact": r.last_contact.isoformat() if r.last_contact else None,
                    "next_followup": r.next_followup,
                }
                for r in rows
            ]
        )
        return 0
    if not rows:
        print(
            "no applications yet: they appear when employer mail arrives, or with "
            "'interviewd interview add'"
        )
        return 0
    print(
        f"{'id':>4}  {'company':<22} {'role':<24} {'status':<18} {'round':<20} "
        f"{'last contact':<14} next follow-up"
    )
    for r in rows:
        rnd = f"#{r.round['number']} {_local(r.round['start'], config)}" if r.round else "-"
        nxt = (
            f"{r.next_followup['kind']} {_local(r.next_followup['due'], config)}"
            f"{' (OVERDUE)' if r.next_followup['when'] == 'overdue' else ''}"
            if r.next_followup
            else "-"
        )
        print(
            f"{r.application_pk:>4}  {r.company[:22]:<22} {r.role[:24]:<24} "
            f"{r.status:<18} {rnd:<20} {_local(r.last_contact, config):<14} {nxt}"
        )
    return 0


def cmd_followups(args: argparse.Namespace) -> int:
    tracking, store, config = _tracking(args)
    try:
        at = _when(args.at, config, "--at") if args.at else None
        result = tracking.followups(at)
    finally:
        store.close()
    if args.json:
        _json_out(result)
        return 0
    print(f"as of {_local(result['as_of'], config)}")
    for bucket in ("overdue", "due", "coming"):
        items = result[bucket]
        print(f"\n{bucket.upper()} ({len(items)})")
        for f in items:
            print(
                f"  [{f['id'] or '-'}] {f['kind']:<16} {f['company'][:24]:<24} "
                f"due {_local(f['due'], config)}  {f['reason']}"
            )
    return 0


def cmd_interview_add(args: argparse.Namespace) -> int:
    tracking, store, config = _tracking(args)
    try:
        at = _when(args.at, config, "--at")
        duration = _duration(args.duration) if args.duration else None
        app_pk, round_pk = tracking.add_interview(
            args.company, args.role, at, duration, args.with_ or [], args.notes or ""
        )
    finally:
        store.close()
    if args.json:
        _json_out({"application_id": app_pk, "round_id": round_pk})
    else:
        print(f"application {app_pk}: round {round_pk} on {_local(at, config)}")
    return 0


def cmd_interview_show(args: argparse.Namespace) -> int:
    tracking, store, config = _tracking(args)
    try:
        data = tracking.timeline(args.id)
    finally:
        store.close()
    if args.json:
        _json_out(data)
        return 0
    print(f"{data['company']} - {data['role'] or '(role unknown)'}  [{data['status']}]")
    print("\nRounds:")
    for r in data["rounds"] or []:
        gone = " (cancelled)" if r["cancelled"] else ""
        print(f"  #{r['number']} {_local(r['start'], config)} {r['kind']}{gone}")
        if r["notes"]:
            print(f"      notes: {r['notes']}")
    print("\nMessages:")
    for m in data["messages"]:
        who = "me" if m["from_user"] else m["from"]
        tag = f"{m['label'] or '-'}" + (" ?" if m["uncertain"] else "")
        print(f"  {_local(m['date'], config)}  {tag:<12} {who[:28]:<28} {m['subject'][:50]}")
    print("\nStatus history:")
    for h in data["history"]:
        print(f"  {_local(h['at'], config)}  {h['from'] or '-'} -> {h['to']}: {h['reason']}")
    print("\nFollow-ups:")
    for f in data["followups"]:
        print(f"  {f['kind']:<16} {f['state']:<10} due {_local(f['due'], config)}  {f['reason']}")
    return 0


def cmd_interview_set(args: argparse.Namespace) -> int:
    from .tracker.facts import Status

    try:
        status = Status(args.status.replace(" ", "_"))
    except ValueError:
        raise UsageError(
            f"unknown status {args.status!r}; use one of {', '.join(s.value for s in Status)}"
        ) from None
    tracking, store, _ = _tracking(args)
    try:
        tracking.set_status(args.id, status)
    finally:
        store.close()
    print(f"application {args.id}: {status.value}")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    tracking, store, _ = _tracking(args)
    try:
        round_pk = tracking.note(args.id, args.text)
    finally:
        store.close()
    print(f"noted on round {round_pk} of application {args.id}")
    return 0


def _alert_service(config: Config, store: Any, config_path: Path) -> Any:
    from .alerts import AlertService

    return AlertService(config, store, template_dir=_template_dir(str(config_path)))


def _template_dir(args_config: str | None) -> Path | None:
    """The user's template overrides: <config folder>/templates."""
    from .config import candidate_paths

    for path in candidate_paths(args_config):
        if path.is_file():
            folder = path.parent / "templates"
            return folder if folder.is_dir() else None
    return None


def cmd_followup_action(args: argparse.Namespace) -> int:
    from .tracker.facts import UserActionKind

    tracking, store, config = _tracking(args)
    try:
        until = None
        if args.handler is cmd_snooze:
            until = tracking.clock.now() + _snooze(args.duration)
        kind = {
            cmd_done: UserActionKind.DONE,
            cmd_snooze: UserActionKind.SNOOZE,
            cmd_dismiss: UserActionKind.DISMISS,
        }[args.handler]
        row = tracking.followup_action(args.id, kind, until)
    finally:
        store.close()
    if args.json:
        _json_out(
            {
                "id": row.id,
                "kind": row.kind,
                "state": row.state,
                "alert_at": row.alert_at.isoformat() if row.alert_at else None,
            }
        )
    else:
        extra = f" until {_local(until, config)}" if until else ""
        print(f"follow-up {row.id} ({row.kind}): {row.state}{extra}")
    return 0


def cmd_done(args: argparse.Namespace) -> int:
    return cmd_followup_action(args)


def cmd_snooze(args: argparse.Namespace) -> int:
    return cmd_followup_action(args)


def cmd_dismiss(args: argparse.Namespace) -> int:
    return cmd_followup_action(args)


def _snooze(text: str) -> Any:
    from datetime import timedelta

    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text or "")
    if not match:
        raise UsageError(f"DURATION: cannot read {text!r}; use e.g. 30m, 4h, 2d or 1w")
    n, unit = int(match.group(1)), match.group(2)
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    return timedelta(**{units[unit]: n})


def cmd_draft(args: argparse.Namespace) -> int:
    from .service import open_store

    config, path = _config(args)
    store = open_store(config)
    try:
        draft = _alert_service(config, store, path).draft_for(args.id)
    finally:
        store.close()
    if args.json:
        _json_out(
            {
                "to": [str(a) for a in draft.to],
                "subject": draft.subject,
                "in_reply_to": draft.in_reply_to or None,
                "references": list(draft.references),
                "body": draft.body,
            }
        )
        return 0
    if draft.to:
        print("To: " + ", ".join(str(a) for a in draft.to))
    print(f"Subject: {draft.subject}")
    if draft.in_reply_to:
        print(f"In-Reply-To: <{draft.in_reply_to}>")
    print()
    print(draft.body.rstrip("\n"))
    return 0


def cmd_alerts_test(args: argparse.Namespace) -> int:
    from .service import open_store

    config, path = _config(args)
    if not config.alerts.channels:
        raise UsageError("no alert channel configured; add one under alerts.channels")
    store = open_store(config)
    try:
        service = _alert_service(config, store, path)
        alert = service.test_alert()
        reports = [service._deliver_one(alert, c) for c in config.alerts.channels]
    finally:
        store.close()
    if args.json:
        _json_out([{"channel": r.channel, "ok": r.ok, "detail": r.detail} for r in reports])
    else:
        for r in reports:
            print(f"{'ok  ' if r.ok else 'FAIL'} {r.channel}: {r.detail}")
    return 0 if all(r.ok for r in reports) else 1


def cmd_alerts_preview(args: argparse.Namespace) -> int:
    from .service import open_store

    config, path = _config(args)
    store = open_store(config)
    try:
        at = _when(args.at, config, "--at") if args.at else None
        alerts = _alert_service(config, store, path).due_alerts(at)
    finally:
        store.close()
    if args.json:
        _json_out(
            [
                {
                    "key": a.key,
                    "kind": a.kind,
                    "title": a.title,
                    "body": a.body,
                    "urgent": a.urgent,
                    "channels": [
                        c.name
                        for c in config.alerts.channels
                        if a.kind in c.kinds or "all" in c.kinds
                    ],
                }
                for a in alerts
            ]
        )
        return 0
    if not alerts:
        print("no alert is due")
    for a in alerts:
        print("=" * 78)
        print(a.title)
        print("-" * 78)
        print(a.body.rstrip("\n"))
    if alerts:
        print("=" * 78)
        where = ", ".join(c.name for c in config.alerts.channels) or "no channel configured"
        print(f"{len(alerts)} alert(s); nothing was sent (channels: {where})")
    return 0


def _channel_checks() -> Any:
    from .health import CheckResult
    from .notify import check as notify_check

    def checks(config: Config) -> list[Any]:
        from .alerts import channel_secret

        results = []
        for channel in config.alerts.channels:
            name = f"alert channel {channel.name}"
            try:
                detail = notify_check(channel, channel_secret(channel))
                results.append(CheckResult(name, True, detail))
            except InterviewdError as exc:
                results.append(
                    CheckResult(
                        name, False, str(exc), "see 'interviewd alerts test' and the channel's keys"
                    )
                )
        return results

    return checks


def cmd_doctor(args: argparse.Namespace) -> int:
    from .health import format_results, run_doctor

    config, path = _config(args)
    results = run_doctor(config, send_test=args.send_test, channel_checks=_channel_checks())
    if args.send_test and config.alerts.channels:
        from .service import open_store

        store = open_store(config)
        try:
            service = _alert_service(config, store, path)
            alert = service.test_alert()
            from .health import CheckResult

            for c in config.alerts.channels:
                r = service._deliver_one(alert, c)
                results.append(
                    CheckResult(
                        f"test alert on {c.name}",
                        r.ok,
                        r.detail,
                        "see the channel's keys in the config",
                    )
                )
        finally:
            store.close()
    if args.json:
        _json_out(
            [
                {"name": r.name, "ok": r.ok, "detail": r.detail, "fix": r.fix or None}
                for r in results
            ]
        )
    else:
        print(format_results(results))
    return 0 if all(r.ok for r in results) else 1


def cmd_secrets_set(args: argparse.Namespace) -> int:
    import getpass

    from .secretstore import set_secret

    if args.stdin or not sys.stdin.isatty():
        value = sys.stdin.readline().rstrip("\r\n")
    else:
        value = getpass.getpass(f"Value for {args.name} (not shown): ")
    if not value:
        raise UsageError("empty secret; nothing stored")
    where = set_secret(args.name, value)
    print(f"{args.name}: stored in {where}")
    return 0


def cmd_secrets_check(args: argparse.Namespace) -> int:
    from .health import format_results
    from .secretstore import check_secrets

    config, _path = _config(args)
    results = check_secrets(config)
    if args.json:
        _json_out(
            [
                {"name": r.name, "ok": r.ok, "detail": r.detail, "fix": r.fix or None}
                for r in results
            ]
        )
    else:
        print(format_results(results) or "this config needs no secret")
    return 0 if all(r.ok for r in results) else 1


def cmd_init(args: argparse.Namespace) -> int:
    import getpass

    from .setup_wizard import SECRET_MARK, ChannelAnswer, InitAnswers, ask_missing, run_init

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    channels = tuple(ChannelAnswer(name=c, type=c) for c in args.channel or ()) or None
    answers = InitAnswers(
        address=args.address,
        provider=args.provider,
        host=args.host,
        port=args.port,
        security=args.security,
        username=args.username,
        password=password,
        oauth2_token_command=args.oauth2_token_command,
        account_name=args.account_name,
        secret_name=args.secret_name,
        store_secret_in=args.store,
        channels=channels,
        timezone=args.timezone,
        output=Path(args.output) if args.output else None,
        overwrite=args.force,
    )

    def ask(question: str, default: str) -> str:
        prompt = f"{question}" + (f" [{default}]" if default else "") + ": "
        answer = getpass.getpass(prompt) if SECRET_MARK in question else input(prompt)
        return answer.strip() or default

    interactive = sys.stdin.isatty() and not args.password_stdin
    answers = ask_missing(answers, ask if interactive else None)
    report = run_init(answers)
    if args.json:
        _json_out(
            {
                "path": str(report.path),
                "account": report.account,
                "host": report.host,
                "port": report.port,
                "security": report.security,
                "sent_folder": report.sent_folder,
                "drafts_folder": report.drafts_folder,
                "secret": report.secret_name,
                "secret_stored_in": report.secret_stored_in,
                "idle": report.has_idle,
                "notes": report.notes,
            }
        )
        return 0
    print(f"wrote {report.path}")
    print(
        f"  account {report.account}: {report.host}:{report.port} ({report.security}), "
        f"{'IDLE' if report.has_idle else 'polling'}"
    )
    print(
        f"  Sent folder: {report.sent_folder or 'not found'}; "
        f"Drafts folder: {report.drafts_folder or 'not found'}"
    )
    print(f"  password: secret {report.secret_name!r} in {report.secret_stored_in}")
    for note in report.notes:
        print(f"  note: {note}")
    print("next: 'interviewd doctor', then 'interviewd sync --once'")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .service import open_store
    from .status import daemon_status

    config, _path = _config(args)
    store = open_store(config)
    try:
        data = daemon_status(config, store)
    finally:
        store.close()
    if args.json:
        _json_out(data)
        return 0
    d = data["daemon"]
    print(
        f"daemon: {'running' if d['running'] else 'not running'}"
        + (
            f" (pid {d['pid']} on {d['host']}, last heartbeat {_local(d['beat_at'], config)})"
            if d["beat_at"]
            else ""
        )
    )
    for w in data["accounts"]:
        print(
            f"  {w['account']}: {w['state']} ({w['mode'] or '-'})"
            + (f"; last error: {w['last_error']}" if w["last_error"] else "")
        )
    for f in data["folders"]:
        print(
            f"  {f['account']}/{f['folder']}: last sync {_local(f['last_sync_at'], config)}"
            + (f"; error: {f['last_error']}" if f["last_error"] else "")
        )
    print(
        f"pending follow-ups: {data['pending_followups']}; next alert: "
        f"{_local(data['next_alert'], config) if data['next_alert'] else '-'}"
    )
    if data["failed_deliveries"]:
        print(f"deliveries failing: {len(data['failed_deliveries'])}")
        for fd in data["failed_deliveries"]:
            print(
                f"  {fd['alert']} on {fd['channel']}: {fd['state']} after {fd['attempts']} "
                f"attempt(s): {fd['last_error']}"
            )
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from .web.server import cmd_web as serve_web

    config, path = _config(args)
    return serve_web(config, args.listen, _template_dir(str(path)))


# -- parser ---------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interviewd",
        description="Watches your mailboxes and keeps the follow-up clocks of every job interview.",
    )
    parser.add_argument("--version", action="version", version=f"interviewd {__version__}")
    parser.add_argument(
        "-c",
        "--config",
        metavar="PATH",
        help="config file (default: $INTERVIEWD_CONFIG, $XDG_CONFIG_HOME/interviewd/config.yaml, "
        "/etc/interviewd/config.yaml)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log detail")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        help="log detail (default: log_level from the config)",
    )
    parser.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="log line format"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = add("check-config", cmd_check_config, "Validate the config file and exit.")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("config", cmd_config_sample, "Print the commented sample config (from the schema).")
    p.add_argument("--markdown", action="store_true", help="a Markdown table of every key")

    p = add("sync", cmd_sync, "Catch up on every mailbox once, then exit.")
    p.add_argument("--once", action="store_true", help="one pass, then exit (required)")
    p.add_argument("--account", action="append", metavar="NAME", help="only this account")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    add("run", cmd_run, "Run the daemon in the foreground: sync, then IDLE or poll forever.")

    p = add("messages", cmd_messages, "List stored messages, newest first.")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="how many (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("classify", cmd_classify, "Classify .eml files (no config or network needed).")
    p.add_argument("paths", nargs="+", metavar="PATH", help=".eml file, folder of them, or -")
    p.add_argument("--model", metavar="DIR", help="a spaCy pipeline (default: the shipped one)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = add("review", cmd_review, "List messages whose class needs your review.")
    p.add_argument("--limit", type=int, default=100, metavar="N", help="how many (default 100)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("label", cmd_label, "Correct the class of a message; kept for retraining.")
    p.add_argument("message", metavar="MESSAGE", help="number from 'messages', or Message-ID")
    p.add_argument("label", metavar="LABEL", help="scheduling, feedback, rejection, offer, other")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("interviews", cmd_interviews, "The board: every application and what comes next.")
    p.add_argument("--at", metavar="WHEN", help="as of this time (default: now)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("followups", cmd_followups, "Follow-ups overdue, due and coming.")
    p.add_argument("--at", metavar="WHEN", help="as of this time (default: now)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("note", cmd_note, "Keep your reflection on an application's latest round.")
    p.add_argument("id", type=int, metavar="ID", help="application number")
    p.add_argument("text", metavar="TEXT", help="what went well, what to improve, specifics")

    interview = sub.add_parser(
        "interview",
        help="Add, show or change one application.",
        description="Add, show or change one application.",
    )
    isub = interview.add_subparsers(
        dest="interview_command", metavar="ACTION", required=True, help="add, show or set"
    )
    p = isub.add_parser(
        "add", help="Record an interview by hand.", description="Record an interview by hand."
    )
    p.set_defaults(handler=cmd_interview_add)
    p.add_argument("--company", required=True, help="the employer")
    p.add_argument("--role", required=True, help="the job title")
    p.add_argument("--at", required=True, metavar="WHEN", help="start, e.g. '2026-11-05 14:00'")
    p.add_argument("--duration", metavar="D", help="e.g. 45m or 1h (default from config)")
    p.add_argument(
        "--with",
        dest="with_",
        action="append",
        metavar="EMAIL",
        help="an interviewer's address (repeatable)",
    )
    p.add_argument("--notes", help="your notes on the round")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = isub.add_parser(
        "show",
        help="The whole timeline of one application.",
        description="The whole timeline of one application.",
    )
    p.set_defaults(handler=cmd_interview_show)
    p.add_argument("id", type=int, metavar="ID", help="application number")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = isub.add_parser(
        "set",
        help="Set an application's status by hand.",
        description="Set an application's status by hand.",
    )
    p.set_defaults(handler=cmd_interview_set)
    p.add_argument("id", type=int, metavar="ID", help="application number")
    p.add_argument("--status", required=True, help="e.g. withdrawn, offer, rejected")

    for name, handler, text in (
        ("done", cmd_done, "Mark a follow-up done (you sent it)."),
        ("dismiss", cmd_dismiss, "Dismiss a follow-up (not needed)."),
    ):
        p = add(name, handler, text)
        p.add_argument("id", type=int, metavar="ID", help="follow-up number")
        p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add("snooze", cmd_snooze, "Snooze a follow-up: remind me later.")
    p.add_argument("id", type=int, metavar="ID", help="follow-up number")
    p.add_argument("duration", metavar="DURATION", help="e.g. 4h, 2d, 1w")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add("draft", cmd_draft, "Print a follow-up's ready draft.")
    p.add_argument("id", type=int, metavar="ID", help="follow-up number")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    alerts = sub.add_parser("alerts", help="Alert channels.", description="Alert channels.")
    asub = alerts.add_subparsers(
        dest="alerts_command", metavar="ACTION", required=True, help="test or preview"
    )
    p = asub.add_parser(
        "test",
        help="Send a test alert on every channel and report each.",
        description="Send a test alert on every configured channel.",
    )
    p.set_defaults(handler=cmd_alerts_test)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = asub.add_parser(
        "preview",
        help="Print the alerts due now (or --at), drafts included; send nothing.",
        description="Print the alerts due now (or at --at), drafts included; send nothing.",
    )
    p.set_defaults(handler=cmd_alerts_preview)
    p.add_argument("--at", metavar="WHEN", help="as of this time (default: now)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("web", cmd_web, "Serve the board in the browser (loopback by default).")
    p.add_argument("--listen", metavar="HOST:PORT", help="default: web.listen, else 127.0.0.1:8765")

    p = add("status", cmd_status, "Is the daemon running, what it last did, what comes next.")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("doctor", cmd_doctor, "Check config, secrets, mailboxes, database, model, channels.")
    p.add_argument("--send-test", action="store_true", help="also send a test alert")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    secrets = sub.add_parser(
        "secrets",
        help="Store and check passwords and tokens.",
        description="Store and check passwords and tokens.",
    )
    ssub = secrets.add_subparsers(
        dest="secrets_command", metavar="ACTION", required=True, help="set or check"
    )
    p = ssub.add_parser(
        "set",
        help="Store a secret in the keyring.",
        description="Store a secret in the keyring (service 'interviewd').",
    )
    p.set_defaults(handler=cmd_secrets_set)
    p.add_argument("name", metavar="NAME", help="e.g. imap-personal or alert-phone")
    p.add_argument("--stdin", action="store_true", help="read the value from standard input")
    p = ssub.add_parser(
        "check",
        help="Is every secret the config needs resolvable?",
        description="Is every secret the config needs resolvable?",
    )
    p.set_defaults(handler=cmd_secrets_check)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add(
        "init",
        cmd_init,
        "Set up once: find your mail server, test the login, store the password, write the config.",
    )
    p.add_argument("--address", help="your mail address")
    p.add_argument("--provider", help="gmail, outlook, fastmail, icloud, yahoo, proton, generic")
    p.add_argument("--host", help="IMAP host (default: from the provider)")
    p.add_argument("--port", type=int, help="IMAP port")
    p.add_argument("--security", choices=("tls", "starttls", "none"), help="connection security")
    p.add_argument("--username", help="login name (default: the address)")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument("--oauth2-token-command", metavar="CMD", help="XOAUTH2 token command")
    p.add_argument("--account-name", help="the account's name in the config")
    p.add_argument("--secret-name", help="the secret's name (default imap-<account>)")
    p.add_argument(
        "--store", metavar="WHERE", help="keyring, credentials-dir:PATH or none (default keyring)"
    )
    p.add_argument(
        "--channel",
        action="append",
        choices=("desktop",),
        help="an alert channel to add (others: edit the config)",
    )
    p.add_argument("--timezone", help="IANA zone, e.g. Europe/Berlin")
    p.add_argument("--output", metavar="PATH", help="where to write the config")
    p.add_argument("--force", action="store_true", help="overwrite an existing config")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    model = sub.add_parser(
        "model", help="Train or evaluate the classifier.", description="Train or evaluate."
    )
    model_sub = model.add_subparsers(
        dest="model_command", metavar="ACTION", required=True, help="train or evaluate"
    )
    p = model_sub.add_parser(
        "train",
        help="Train the classifier from the corpus.",
        description="Train the classifier from the corpus in training/.",
    )
    p.set_defaults(handler=cmd_model_train)
    p.add_argument(
        "--with-corrections",
        action="store_true",
        help="add your corrections and write a personal model to your data folder",
    )
    p.add_argument("--output", metavar="DIR", help="where to write the pipeline")
    p = model_sub.add_parser(
        "evaluate",
        help="Per-class precision, recall, F1 and confusion matrix.",
        description="Evaluate a pipeline on the held-out split and the shared dev set.",
    )
    p.set_defaults(handler=cmd_model_evaluate)
    p.add_argument("--model", metavar="DIR", help="the pipeline (default: the one in use)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    _setup_logging("info", args)
    try:
        return args.handler(args)
    except ConfigError as exc:
        where = f" in {exc.path}" if exc.path else ""
        if len(exc.problems) == 1:
            print(f"interviewd: config error{where}: {exc.problems[0]}", file=sys.stderr)
        else:
            print(
                f"interviewd: config error{where}: {len(exc.problems)} problems:", file=sys.stderr
            )
            for problem in exc.problems:
                print(f"  - {problem}", file=sys.stderr)
        return exc.exit_code
    except InterviewdError as exc:
        print(f"interviewd: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        print(
            f"interviewd: internal error: {exc.__class__.__name__}: {exc} "
            "(run with -v for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 70
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
