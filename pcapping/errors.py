"""Error types shared by the whole package.

Decode problems (``DecodeError`` and its two children) are raised only by the
pure ``parse()`` functions; ``decode_frame()`` turns them into data.
Operational failures (bad option, unknown interface, no privilege, unreadable
file) are ``PcappingError``; ``cli.py`` maps them to one line on stderr and
exit status 2.
"""

from __future__ import annotations


class DecodeError(Exception):
    """A buffer could not be decoded as the layer asked for."""

    def __init__(self, layer: str, message: str) -> None:
        super().__init__(f"{layer}: {message}")
        self.layer = layer
        self.message = message


class Truncated(DecodeError):
    """The buffer ends before the header (or the part asked for) does."""

    def __init__(self, layer: str, needed: int, got: int) -> None:
        super().__init__(layer, f"needs {needed} bytes, {got} captured")
        self.needed = needed
        self.got = got

    def __str__(self) -> str:  # "truncated: icmp needs 8 bytes, 6 captured"
        return f"truncated: {self.layer} needs {self.needed} bytes, {self.got} captured"


class Malformed(DecodeError):
    """The bytes are there but make no sense (bad version, IHL < 5, ...)."""

    def __str__(self) -> str:
        return f"malformed: {self.layer}: {self.message}"


class PcappingError(Exception):
    """An operational failure: reported as one line, exit status 2."""


# What to tell a user who lacks the privilege to capture or inject: never "give the Python
# interpreter capabilities" (every script it runs would get them); the README's
# "Privileges" section has the safer recipes.
PRIVILEGE_ADVICE = "run with sudo, see " \
    "'Privileges' in the README"
