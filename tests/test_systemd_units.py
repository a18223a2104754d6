"""The systemd units: valid for systemd itself, hardened, and the hardening fits Python.

``systemd-analyze verify`` loads a unit file offline (no systemd as PID 1 needed): the system
unit as is, the user unit with ``--user`` and a private ``XDG_RUNTIME_DIR``. It exits 0 even
on unknown keys or unparsable values (it only warns), so the tests also fail on any warning
that names the unit file. ExecStart= is rewritten to a temporary executable because verify
checks that the binary exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parent.parent / "systemd"
SYSTEM_UNIT = UNITS / "interviewd.service"
USER_UNIT = UNITS / "interviewd-user.service"
EXEC = "/usr/local/bin/interviewd"
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"

HARDENING = {
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "NoNewPrivileges": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "CapabilityBoundingSet": "",
    "MemoryDenyWriteExecute": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictNamespaces": "yes",
    "LockPersonality": "yes",
    "RestrictRealtime": "yes",
    "SystemCallArchitectures": "native",
    "UMask": "0077",
}
SERVICE_BASICS = {
    "Type": "notify",
    "NotifyAccess": "main",
    "Restart": "on-failure",
    "StateDirectory": "interviewd",
    "ExecReload": "/bin/kill -HUP $MAINPID",
}


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value in order (systemd allows repeated keys)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"key outside a section: {line!r}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def verify(unit: Path, tmp_path: Path, *, user: bool, text: str | None = None) -> str:
    """Run ``systemd-analyze verify`` on a copy of ``unit``; return its complaints."""
    work = tmp_path / ("user" if user else "system")
    work.mkdir(exist_ok=True)
    binary = work / "interviewd"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    body = unit.read_text() if text is None else text
    assert EXEC in body
    copy = work / unit.name
    copy.write_text(body.replace(EXEC, str(binary)))
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="warning", SYSTEMD_PAGER="", LC_ALL="C")
    args = [ANALYZE]
    if user:
        runtime = work / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(runtime)
        args.append("--user")
    done = subprocess.run(
        [*args, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # Warnings about our unit name its file (or its unit name); others are the host's.
    return "\n".join(line for line in output.splitlines() if copy.name in line or str(copy) in line)


@pytest.mark.parametrize(("unit", "user"), [(SYSTEM_UNIT, False), (USER_UNIT, True)])
def test_systemd_analyze_verify_passes(unit: Path, user: bool, tmp_path: Path) -> None:
    assert verify(unit, tmp_path, user=user) == ""


@pytest.mark.parametrize(("unit", "user"), [(SYSTEM_UNIT, False), (USER_UNIT, True)])
def test_verify_catches_a_broken_unit(unit: Path, user: bool, tmp_path: Path) -> None:
    """The check above is live: a misspelt key and a bad value are reported."""
    broken = unit.read_text().replace("LockPersonality=", "LockPersonalty=")
    broken = broken.replace("WatchdogSec=30min", "WatchdogSec=banana")
    complaints = verify(unit, tmp_path, user=user, text=broken)
    assert "LockPersonalty" in complaints
    assert "banana" in complaints


@pytest.mark.parametrize("unit", [SYSTEM_UNIT, USER_UNIT])
def test_hardening_and_service_keys(unit: Path) -> None:
    service = parse_unit(unit.read_text())["Service"]
    for key, value in {**HARDENING, **SERVICE_BASICS}.items():
        assert key in service, f"{unit.name}: {key}= missing"
        assert value in service[key], f"{unit.name}: {key}={service[key]} (want {value!r})"
    assert "@system-service" in service["SystemCallFilter"]
    assert service["WatchdogSec"] and service["WatchdogSec"][0] not in ("", "0", "infinity")
    assert service["ExecStart"] == [
        f"{EXEC} --config /etc/interviewd/config.yaml run" if unit == SYSTEM_UNIT else f"{EXEC} run"
    ]
    unit_section = parse_unit(unit.read_text())["Unit"]
    assert "StartLimitIntervalSec" in unit_section and "StartLimitBurst" in unit_section


def test_system_unit_runs_as_its_own_user_with_credentials() -> None:
    service = parse_unit(SYSTEM_UNIT.read_text())["Service"]
    assert service["User"] == ["interviewd"]
    assert service["ProtectHome"] == ["yes"]
    assert any(v.startswith("imap-personal:") for v in service["LoadCredential"])


def test_user_unit_reads_home_but_cannot_write_it() -> None:
    service = parse_unit(USER_UNIT.read_text())["Service"]
    assert service["ProtectHome"] == ["read-only"]
    assert "User" not in service
    assert parse_unit(USER_UNIT.read_text())["Install"]["WantedBy"] == ["default.target"]


MDWE_PROBE = textwrap.dedent(
    """\
    import ctypes, mmap
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
    # The kernel's form of MemoryDenyWriteExecute= (Linux 6.3+): no W+X mapping from now on.
    assert libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) == 0, ctypes.get_errno()
    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except OSError:
        pass
    else:
        raise SystemExit("W^X is not enforced: the probe proves nothing")
    import spacy
    from spacy.training import Example
    import interviewd.cli, interviewd.daemon, interviewd.service, keyring, imapclient, sqlalchemy
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat")
    for label in ("interview", "other"):
        textcat.add_label(label)
    examples = [
        Example.from_dict(nlp.make_doc("we invite you to an interview"),
                          {"cats": {"interview": 1.0, "other": 0.0}}),
        Example.from_dict(nlp.make_doc("weekly newsletter and discounts"),
                          {"cats": {"interview": 0.0, "other": 1.0}}),
    ]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(3):
        nlp.update(examples, sgd=optimizer)
    cats = nlp("interview on monday").cats
    assert abs(sum(cats.values()) - 1) < 1e-3, cats
    callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
    assert callback(1) == 2
    print("ok")
    """
)


def test_python_and_spacy_run_under_memory_deny_write_execute() -> None:
    """Why MemoryDenyWriteExecute=yes: CPython, spaCy/thinc training and inference and ctypes
    callbacks all work with W^X enforced, so the units can turn it on."""
    done = subprocess.run(
        [sys.executable, "-c", MDWE_PROBE], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
