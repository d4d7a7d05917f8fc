"""Link-type names as libpcap gives them to tcpdump's header lines.

``linktype_text(LINKTYPE)`` is what follows ``link-type`` in "reading from file F,
link-type EN10MB (Ethernet), snapshot length 262144": the DLT's name and description
(libpcap 1.10's table, for the link types of pcap files this project meets), or the
bare number where libpcap has no name.  A file's LINKTYPE_ value becomes a DLT_ value
as libpcap maps it on Linux (``linktype_to_dlt``: LINKTYPE_RAW 101 is DLT_RAW 12).
"""

from __future__ import annotations

# LINKTYPE_ values whose DLT_ value differs on Linux (libpcap's pcap-common.c)
_LINKTYPE_TO_DLT = {101: 12, 100: 11, 102: 15, 103: 16, 106: 19}

# DLT -> (name, description)
_DLT_NAMES = {
    0: ("NULL", "BSD loopback"), 1: ("EN10MB", "Ethernet"), 6: ("IEEE802", "Token ring"),
    7: ("ARCNET", "BSD ARCNET"), 8: ("SLIP", "SLIP"), 9: ("PPP", "PPP"),
    10: ("FDDI", "FDDI"), 11: ("ATM_RFC1483", "RFC 1483 LLC-encapsulated ATM"),
    12: ("RAW", "Raw IP"), 50: ("PPP_SERIAL", "PPP over serial"),
    51: ("PPP_ETHER", "PPPoE"), 104: ("C_HDLC", "Cisco HDLC"),
    105: ("IEEE802_11", "802.11"), 107: ("FRELAY", "Frame Relay"),
    108: ("LOOP", "OpenBSD loopback"), 113: ("LINUX_SLL", "Linux cooked v1"),
    127: ("IEEE802_11_RADIO", "802.11 plus radiotap header"),
    129: ("ARCNET_LINUX", "Linux ARCNET"),
    166: ("PPP_PPPD", "PPP for pppd, with direction flag"), 226: ("IPNET", "Solaris ipnet"),
    228: ("IPV4", "Raw IPv4"), 229: ("IPV6", "Raw IPv6"),
    242: ("IPOIB", "RFC 4391 IP-over-Infiniband"), 276: ("LINUX_SLL2", "Linux cooked v2"),
    281: ("DSA_TAG_BRCM", "Broadcom tag"), 284: ("DSA_TAG_DSA", "Marvell DSA"),
    285: ("DSA_TAG_EDSA", "Marvell EDSA"),
}


def linktype_to_dlt(linktype: int) -> int:
    """The DLT libpcap uses for a file's LINKTYPE (its linktype_to_dlt, on Linux)."""
    return _LINKTYPE_TO_DLT.get(linktype, linktype)


def dlt_name(linktype: int) -> str | None:
    """libpcap's short name for a file's link type (``EN10MB``), or None."""
    named = _DLT_NAMES.get(linktype_to_dlt(linktype))
    return named[0] if named else None


def linktype_text(linktype: int) -> str:
    """``EN10MB (Ethernet)``, or the number where libpcap has no name for it."""
    named = _DLT_NAMES.get(linktype_to_dlt(linktype))
    return f"{named[0]} ({named[1]})" if named else str(linktype)


__all__ = ["dlt_name", "linktype_text", "linktype_to_dlt"]
