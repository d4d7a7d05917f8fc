"""Shared fixtures: the live lab.

Live tests are marked ``@pytest.mark.live`` and take the session-scoped ``lab`` fixture, a
``LabSpec`` for a lab that is up. It uses its own namespace prefix, ``pcpt<pid>-`` (one per
pytest process, so engineers running the suite at the same time never tear down each other's
lab), and its own address block (``10.78``), so it never collides with a user's ``pcapping lab
up`` (``pcping-``, ``10.77``); the addresses live only inside the lab's namespaces, so two labs
with the same block do not meet. It is built once per session and torn down at the end, also
when tests fail; labs left by killed sessions (``pcpt<pid>-`` of a dead pid) are removed at the
start of the next one. Use ``spec.ns(host)`` and ``spec.addr(host)``, never literal names.
Without root, or where ``ip netns add`` is refused (unprivileged container), live tests skip.

``netns_run(spec, host, argv, **kw)`` runs a command inside one of the lab's namespaces and
returns the ``CompletedProcess`` (text mode, output captured, 30 s timeout unless given).
``REPO_ROOT`` and ``repo_env()`` let a subprocess import this checkout's ``pcapping``.

Kernel facts the live tests must respect are in ``pcapping/lab/__init__.py``'s docstring and
``docs/lab.md`` (the unreachable/prohibit answer budget of 5 per burst, the client's PMTU
cache, the rate-limited router's bucket).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from pcapping import lab as lab_module
from pcapping.errors import PcappingError
from pcapping.lab import HOSTS, LabSpec

# Hypothesis profiles: `fast` (test_properties.py's default) and `thorough` (long runs:
# --hypothesis-profile=thorough).  Registered here because the option is read before any
# test module is imported.
settings.register_profile(
    "fast", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "thorough", max_examples=5000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

REPO_ROOT = Path(__file__).resolve().parent.parent

# Run by sudo (`sh run.sh test` as a normal user), the suite is root with SUDO_* set, and the
# pcapping commands it starts would become that user once their handles are open, then fail
# to write into root's temporary directories.  The tests run pcapping as plain root; the
# drop to the sudo user is tested on its own, with SUDO_* given explicitly.
for _name in ("SUDO_UID", "SUDO_GID", "SUDO_USER", "SUDO_COMMAND"):
    os.environ.pop(_name, None)
TEST_PREFIX = "pcpt"
TEST_LAB = LabSpec(prefix=f"{TEST_PREFIX}{os.getpid()}-", net="10.78")
# test labs: pcpt<pid>- (the session lab) and pcp<letter><pid>- (private labs of single tests)
_STALE_RE = re.compile(rf"^pcp[a-z](\d+)-({'|'.join(HOSTS)})$")
_STALE_FILE_RE = re.compile(r"^pcp[a-z](\d+)-(tunrelay\.pid|lab\.json)$")


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


def _remove_stale_labs() -> None:
    """Delete test-lab namespaces (``pcpt<pid>-<host>``, and ``pcp<letter><pid>-<host>`` of
    the private labs single tests build) whose pytest process no longer exists, and their
    files under /run/pcapping (a stale tun relay exits by itself once its namespaces are
    gone)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.strip() else ""
        match = _STALE_RE.match(name)
        if match and not os.path.exists(f"/proc/{match.group(1)}"):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    run_dir = Path(lab_module.spec.RELAY_DIR)
    for path in run_dir.iterdir() if run_dir.is_dir() else []:
        match = _STALE_FILE_RE.match(path.name)
        if match and not os.path.exists(f"/proc/{match.group(1)}"):
            path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def lab() -> Iterator[LabSpec]:
    """A lab that is up for the whole session (prefix pcpt<pid>-, block 10.78), then removed."""
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    _remove_stale_labs()
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
