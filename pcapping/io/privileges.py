"""Giving up root once the handles are open.

``drop_privileges`` is sniff's ``-Z USER``, as tcpdump does it: the capture handle (or the
file being read) is opened as root; then the process takes USER's groups, group and user
id, and only after that opens the ``-w`` file, so that file belongs to USER.  tcpdump does
this only when it runs as root, and so does this.  ``drop_to_invoker`` is what send, trace
and the sweep do: become the user who ran sudo (or ``-Z USER``) once the capture and
injection handles are open.  Both end in ``become``.
"""

from __future__ import annotations

import os
import pwd

from pcapping.errors import PcappingError


def drop_privileges(user: str) -> str | None:
    """Become ``user``; the line tcpdump prints ("dropped privs to USER"), or None when not
    running as root (nothing to drop).  Raises ``PcappingError`` with tcpdump's words."""
    if os.getuid() != 0 and os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise PcappingError(f"Couldn't find user '{user[:32]}'") from None
    try:
        become(pw.pw_name, pw.pw_uid, pw.pw_gid)
    except OSError as exc:
        raise PcappingError(f"Couldn't change to '{user[:32]}' uid={pw.pw_uid} "
                            f"gid={pw.pw_gid}: {exc.strerror or exc}") from None
    return f"dropped privs to {user}"


def become(name: str | None, uid: int, gid: int) -> None:
    """Take ``name``'s groups (none without a name), then ``gid``, then ``uid``: the order
    in which each step is still allowed.  Raises ``OSError``."""
    if name:
        os.initgroups(name, gid)
    else:
        os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


# ``user`` for the library API: a Python program that calls ``pcapping.ping`` keeps its
# privileges (it may call again, or do other privileged work); no user name, and no
# command-line argument, can hold a NUL byte.
KEEP_PRIVILEGES = "\0"


def drop_to_invoker(user: str | None) -> None:
    """Become ``user`` (or the user who ran sudo) once every privileged handle is open.

    As tcpdump's ``-Z``: the capture and injection sockets stay usable, nothing else
    the run does needs root.  ``-Z root`` (or running as root without sudo) keeps root,
    and so does ``KEEP_PRIVILEGES`` (the library's calls).
    """
    if os.geteuid() != 0 or user == KEEP_PRIVILEGES:
        return
    if user is None:
        uid, gid = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
        if not uid or not gid or uid == "0":
            return
        name = os.environ.get("SUDO_USER")
        uid_n, gid_n = int(uid), int(gid)
    else:
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise PcappingError(f"-Z: unknown user {user!r}") from None
        if entry.pw_uid == 0:
            return
        name, uid_n, gid_n = entry.pw_name, entry.pw_uid, entry.pw_gid
    try:
        become(name, uid_n, gid_n)
    except OSError as exc:
        raise PcappingError(f"cannot drop privileges: {exc.strerror or exc}") from None


__all__ = ["KEEP_PRIVILEGES", "become", "drop_privileges", "drop_to_invoker"]
