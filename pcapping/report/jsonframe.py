"""``sniff --json``: one frame's JSON object as text.

``frame_json(data, linktype, frame, ts_sec, ts_usec, length)`` is exactly
``dumps(decode_frame(...).to_dict())``.

``dumps`` is the encoder: orjson when it is installed (the optional extra ``fast``), else
the standard library, with the same bytes either way (compact separators, ASCII only).
"""

from __future__ import annotations

import json
from typing import Any

from pcapping.decode import decode_frame

_std = json.JSONEncoder(separators=(",", ":")).encode


def dumps(obj: dict[str, Any]) -> str:
    """``json.dumps(obj, separators=(",", ":"))``."""
    return _std(obj)


def frame_json(data: bytes, linktype: int, frame: int, ts_sec: int, ts_usec: int,
               length: int) -> str:
    """The ``sniff --json`` line of one record (no newline)."""
    return dumps(decode_frame(data, linktype, frame=frame, ts_sec=ts_sec, ts_usec=ts_usec,
                              length=length).to_dict())
