"""``-Z USER``: give up root once the capture is open, as tcpdump does.

The capture handle (or the file being read) is opened as root; then the process takes
USER's groups, group and user id, and only after that opens the ``-w`` file, so that file
belongs to USER.  tcpdump does this only when it runs as root, and so does this.
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
        os.initgroups(pw.pw_name, pw.pw_gid)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    except OSError as exc:
        raise PcappingError(f"Couldn't change to '{user[:32]}' uid={pw.pw_uid} "
                            f"gid={pw.pw_gid}: {exc.strerror or exc}") from None
    return f"dropped privs to {user}"


__all__ = ["drop_privileges"]
