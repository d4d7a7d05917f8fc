#!/usr/bin/env python3
"""Compare pcapping's tcpdump text with real tcpdump, frame by frame.

    scripts/compare_tcpdump.py FILE... [--flags "-nv"] [--all] [-q]

Runs ``TZ=UTC tcpdump <flags> -r FILE`` and ``TcpdumpFormatter`` on every
frame of every file, whatever its link type, prints every differing line
(file, frame number, expected, got) for ICMP/ARP frames (all frames with
``--all``) and counts of identical frames.

A frame is an ICMP/ARP frame when pcapping's decoder finds ICMP or ARP in it
(at any depth of encapsulation: the innermost network layer counts), or when
tcpdump's own text for it shows an ICMP or ARP line; so a frame on a link
type or inside a tunnel pcapping does not decode still counts, as a
difference.  ICMPv6 (NDP, MLD) frames count as 'icmp6'.  Exit status 0 when
every ICMP/ICMPv6/ARP frame is identical.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pcapping.decode import decode_frame  # noqa: E402
from pcapping.errors import PcappingError  # noqa: E402
from pcapping.io.pcapfile import PcapReader  # noqa: E402
from pcapping.tcpdump.formatter import TcpdumpFormatter, split_records  # noqa: E402

# tcpdump's words for an ICMP or ARP line (its ARP printer also names RARP, ATMARP, SLARP)
_TCPDUMP_ICMP = re.compile(r": ICMP ")
_TCPDUMP_ICMP6 = re.compile(r": ICMP6[, ]")
_TCPDUMP_ARP = re.compile(r"\b(?:ARP|RARP|ATMARP|SLARP)\b")


def tcpdump_records(path: str, flags: list[str]) -> list[str]:
    env = dict(os.environ, TZ="UTC")
    proc = subprocess.run(["tcpdump", *flags, "-r", path], capture_output=True, env=env,
                          check=False)
    return split_records(proc.stdout.decode("utf-8", "backslashreplace"))


def kind_of(d, expected: str = "") -> str:  # noqa: ANN001
    """'icmp', 'icmp6', 'arp' or 'other' for a decoded frame (from raw bytes where layers
    failed), or from tcpdump's text for it when pcapping found none.  An IPv6 frame is
    'icmp6' when its extension chain ends in ICMPv6 or could not be walked to an upper
    layer (a cut or bad extension header, a cut fixed header announcing ICMPv6 or an
    extension header)."""
    if d.ethertype in (0x0806, 0x8035):
        return "arp"
    off = d.l3_offset
    if d.ethertype == 0x0800:
        if len(d.data) >= off + 10 and d.data[off] >> 4 == 4 and d.data[off + 9] == 1:
            return "icmp"
    if d.ethertype == 0x86DD:
        chain = d.ip6_ext
        if chain is not None:
            if chain.protocol == 58 or (chain.error is not None
                                        and chain.protocol in (0, 43, 44, 51, 60)):
                return "icmp6"
        elif len(d.data) >= off + 7 and d.data[off] >> 4 == 6 and d.data[off + 6] in (
                58, 0, 43, 44, 51, 60):
            return "icmp6"
    if _TCPDUMP_ICMP.search(expected):
        return "icmp"
    if _TCPDUMP_ICMP6.search(expected):
        return "icmp6"
    if _TCPDUMP_ARP.search(expected):
        return "arp"
    return "other"


def flag_list(flags: str) -> list[str]:
    out = flags.split()
    return out if "-n" in "".join(out) else ["-n", *out]


def formatter_for(flags: list[str]) -> TcpdumpFormatter:
    """The formatter for tcpdump's one-letter flags (-v.. -e -X.. -x.. -A.. -t.. -#)."""
    joined = "".join(f.lstrip("-") for f in flags)
    return TcpdumpFormatter(verbose=joined.count("v"), link="e" in joined,
                            hexdump=min(joined.count("X"), 2), xdump=min(joined.count("x"), 2),
                            ascii=min(joined.count("A"), 2), tflag=joined.count("t"),
                            number="#" in joined)


def compare(path: str, flags: list[str], show_all: bool = False, quiet: bool = False,
            out=sys.stdout) -> dict[str, list[int]]:  # noqa: ANN001
    """Counts per kind: [identical, total]; prints differences."""
    counts = {"icmp": [0, 0], "icmp6": [0, 0], "arp": [0, 0], "other": [0, 0]}
    try:
        frames = list(PcapReader(path))
    except PcappingError as exc:
        print(f"{path}: {exc}", file=out)
        return counts
    if not frames:
        return counts
    expected = tcpdump_records(path, flags)
    fmt = formatter_for(flags)
    for i, cap in enumerate(frames):
        d = decode_frame(cap.data, cap.linktype, frame=i + 1, ts_sec=cap.ts_sec,
                         ts_usec=cap.ts_usec, length=cap.length)
        got = fmt.format(d)
        if got.endswith("\n"):  # split_records cannot tell a last empty line from the end
            got = got[:-1]
        want = expected[i] if i < len(expected) else "<missing>"
        kind = kind_of(d, want)
        counts[kind][1] += 1
        if got == want:
            counts[kind][0] += 1
            continue
        if quiet or (kind == "other" and not show_all):
            continue
        wl, gl = want.split("\n"), got.split("\n")
        for j in range(max(len(wl), len(gl))):
            w = wl[j] if j < len(wl) else "<none>"
            g = gl[j] if j < len(gl) else "<none>"
            if w != g:
                print(f"{path} #{i + 1} [{kind}] line {j + 1}\n  expected: {w!r}\n"
                      f"  got:      {g!r}", file=out)
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--flags", default="-n")
    ap.add_argument("--all", action="store_true", help="also show non-ICMP/ARP differences")
    ap.add_argument("-q", action="store_true", help="counts only")
    args = ap.parse_args(argv)
    flags = flag_list(args.flags)
    total = {"icmp": [0, 0], "icmp6": [0, 0], "arp": [0, 0], "other": [0, 0]}
    for path in args.files:
        c = compare(path, flags, args.all, args.q)
        for k in total:
            total[k][0] += c[k][0]
            total[k][1] += c[k][1]
    for k, (same, n) in total.items():
        rate = 100.0 * same / n if n else 100.0
        print(f"{' '.join(flags)} {k}: {same}/{n} identical ({rate:.2f}%)")
    same = total["icmp"][0] + total["arp"][0]
    n = total["icmp"][1] + total["arp"][1]
    print(f"{' '.join(flags)} icmp+arp: {same}/{n} identical")
    return 1 if same != n else 0


if __name__ == "__main__":
    sys.exit(main())
