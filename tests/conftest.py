"""Shared fixtures: the live lab.

Live tests are marked ``@pytest.mark.live`` and take the session-scoped ``lab`` fixture, a
``LabSpec`` for a lab that is up. It uses its own namespace prefix (``pcpt-``) and address
block (``10.78``), so it never collides with a user's ``pcapping lab up`` (``pcping-``,
``10.77``). It is built once per session and torn down at the end, also when tests fail.
Without root, or where ``ip netns add`` is refused (unprivileged container), live tests skip.

``netns_run(spec, host, argv, **kw)`` runs a command inside one of the lab's namespaces and
returns the ``CompletedProcess`` (text mode, output captured, 30 s timeout unless given).
``REPO_ROOT`` and ``repo_env()`` let a subprocess import this checkout's ``pcapping``.

Kernel facts the live tests must respect are in ``pcapping/lab.py``'s docstring (the
unreachable/prohibit answer budget of 5 per burst, the client's PMTU cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pcapping import lab as lab_module
from pcapping.errors import PcappingError
from pcapping.lab import LabSpec

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_LAB = LabSpec(prefix="pcpt-", net="10.78")


def repo_env(**extra: str) -> dict[str, str]:
    """os.environ with this checkout first on PYTHONPATH (plus any extra variables)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def netns_run(
    spec: LabSpec, host: str, argv: Sequence[str], **kw: Any
) -> subprocess.CompletedProcess[str]:
    """Run argv inside the lab's namespace for host (``ip netns exec``); never raises on exit."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 30)
    kw.setdefault("check", False)
    return subprocess.run(["ip", "netns", "exec", spec.ns(host), *argv], **kw)


def _skip_reason() -> str | None:
    """Why live tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "live lab needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "live lab needs iproute2's `ip` command"
    probe = f"{TEST_LAB.prefix}probe-{os.getpid()}"
    proc = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return f"`ip netns add` is not possible here: {detail}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


@pytest.fixture(scope="session")
def lab() -> Iterator[LabSpec]:
    """A lab that is up for the whole session (prefix pcpt-, block 10.78), then removed."""
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    try:
        lab_module.up(TEST_LAB)
    except PcappingError as exc:
        pytest.skip(f"cannot build the lab: {exc}")
    try:
        yield TEST_LAB
    finally:
        lab_module.down(TEST_LAB)


@pytest.fixture(name="netns_run")
def netns_run_fixture() -> Any:
    """The ``netns_run`` helper as a fixture, for tests that prefer fixtures to imports."""
    return netns_run
