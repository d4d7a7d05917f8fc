"""decode_frame through tunnels, encapsulations and the newer link types: the JSON of known
fixture frames (captures/README.md says what each file holds), cut and bogus headers, and
the -q tally on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pcapping
from pcapping.decode import Tally, decode_frame, tally
from pcapping.io.pcapfile import PcapReader
from pcapping.wire.tunnelports import udp_tunnel

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def frames(name: str) -> list[dict]:
    return [d.to_dict() for d in pcapping.read_capture(str(CAPTURES / name))]


def kinds(obj: dict) -> list[str]:
    return [e["type"] for e in obj.get("encap", ())]


def test_vxlan_echo_arp_and_otv() -> None:
    objs = frames("udp-tunnels.pcap")
    first = objs[0]
    assert first["outer_ip"]["src"] == "192.0.2.1" and first["outer_ip"]["proto"] == 17
    assert kinds(first) == ["udp", "vxlan", "eth"]
    assert first["encap"][1] == {"type": "vxlan", "vni": 100, "flags": 8}
    assert first["ip"]["src"] == "10.77.1.2" and first["ip"]["dst"] == "10.77.3.2"
    assert first["icmp"] == {"type": 8, "code": 0, "checksum": first["icmp"]["checksum"],
                             "checksum_ok": True, "id": 0x1234, "seq": 1}
    arp = next(o for o in objs if "arp" in o)
    assert kinds(arp) == ["udp", "vxlan", "eth"] and arp["arp"]["tpa"] == "10.77.1.1"
    otv = next(o for o in objs if "otv" in kinds(o))
    assert otv["encap"][1] == {"type": "otv", "overlay": 0, "instance": 42, "flags": 8}
    tagged = next(o for o in objs if o.get("encap", [{}, {}, {}])[-1].get("vlan") == [10])
    assert tagged["icmp"]["seq"] == 2


def test_cut_vxlan_keeps_the_outer_layers() -> None:
    objs = frames("udp-tunnels.pcap")
    cut = objs[1]  # cut inside the UDP header
    assert cut["outer_ip"]["dst"] == "192.0.2.2" and "ip" not in cut
    assert cut["problems"][-1] == "truncated: udp needs 8 bytes, 4 captured"
    assert objs[3]["problems"][-1] == "truncated: ethernet needs 14 bytes, 10 captured"
    inner_cut = objs[4]  # cut inside the inner IPv4 header: what is there still shows
    assert kinds(inner_cut) == ["udp", "vxlan", "eth"]
    assert inner_cut["ip"]["ttl"] == 64 and inner_cut["ip"]["src"] is None
    assert inner_cut["ip"]["checksum_ok"] is None


def test_dns_port_wins_over_vxlan_as_in_tcpdump() -> None:
    assert udp_tunnel(45149, 4789) == "vxlan"
    assert udp_tunnel(53, 4789) is None  # tcpdump's DNS printer comes first
    assert udp_tunnel(4789, 1985) is None  # HSRP, chosen by destination port, too
    assert udp_tunnel(1985, 4789) == "vxlan"
    assert udp_tunnel(4789, 8472) == "otv" and udp_tunnel(6081, 4789) == "vxlan"
    assert udp_tunnel(49152, 7) == "bcm_li" and udp_tunnel(7, 49152) is None
    assert udp_tunnel(4789, 2049, b"\0\0\0\0") is None  # an NFS call to 2049
    dns = frames("udp-tunnels.pcap")[11]  # from port 53 to port 4789
    assert "outer_ip" not in dns and "encap" not in dns and dns["ip"]["proto"] == 17


def test_geneve_mpls_bcm_li() -> None:
    objs = frames("udp-tunnels.pcap")
    gen = next(o for o in objs if "geneve" in kinds(o))
    assert gen["encap"][1]["vni"] == 10 and gen["encap"][1]["options_length"] == 8
    assert gen["icmp"]["seq"] == 6
    direct = next(o for o in objs if "geneve" in kinds(o) and kinds(o)[-1] == "geneve"
                  and "ip" in o)
    assert direct["encap"][1]["protocol"] == 0x0800 and direct["icmp"]["type"] == 0
    assert objs[17]["problems"] == ["malformed: geneve: version 1"]
    mpls = next(o for o in objs if "mpls" in kinds(o))
    assert mpls["encap"][1]["labels"] == [{"label": 21, "tc": 0, "bottom": True, "ttl": 63}]
    assert mpls["icmp"]["seq"] == 8
    bcm = [o for o in objs if "bcm_li" in kinds(o)]
    assert [o["icmp"]["seq"] for o in bcm] == [9, 10, 11]
    assert kinds(bcm[2]) == ["udp", "bcm_li", "eth"]


def test_bad_inner_checksum_is_the_inner_verdict() -> None:
    last = frames("udp-tunnels.pcap")[-1]
    assert last["outer_ip"]["checksum_ok"] is True
    assert last["icmp"]["checksum_ok"] is False


def test_gre_erspan() -> None:
    objs = frames("gre-erspan.pcap")
    assert kinds(objs[0]) == ["gre"] and objs[0]["icmp"]["seq"] == 1
    keyed = objs[1]["encap"][0]
    assert keyed["key"] == 0x1234 and keyed["seq"] == 7
    assert objs[2]["encap"][0]["checksum_ok"] is True  # the GRE checksum is verified
    assert kinds(objs[3]) == ["gre", "eth"] and "arp" in objs[3]
    pptp = objs[5]
    assert kinds(pptp) == ["gre", "ppp"] and pptp["encap"][0]["version"] == 1
    assert pptp["icmp"]["seq"] == 4
    span1, span2, span3, span3o = objs[7:11]
    assert span1["encap"][1] == {"type": "erspan", "version": 0}
    assert span2["encap"][1]["session"] == 100 and span2["encap"][1]["index"] == 5
    assert span3["encap"][1]["version"] == 2 and span3["encap"][1]["vlan"] == 20
    assert span3o["encap"][1]["session"] == 201 and span3o["icmp"]["seq"] == 8
    assert all(o["ip"]["src"] == "10.77.1.2" for o in (span1, span2, span3, span3o))
    bad = objs[12]
    assert bad["problems"] == ["malformed: gre: version 2"] and "outer_ip" in bad


def test_ipip_pim_mpls() -> None:
    objs = frames("ipip-pim.pcap")
    assert kinds(objs[0]) == ["ipip"] and objs[0]["icmp"]["seq"] == 1
    err = objs[2]
    assert err["icmp"]["type"] == 11 and err["icmp"]["quoted"]["icmp"]["seq"] == 2
    reg = objs[3]
    assert reg["encap"][0] == {"type": "pim", "version": 2, "ptype": 1,
                               "checksum": reg["encap"][0]["checksum"], "flags": 0,
                               "checksum_ok": True}
    assert reg["ip"]["dst"] == "239.1.2.3" and reg["icmp"]["seq"] == 3
    stop = next(o for o in objs if o.get("ip", {}).get("proto") == 103 and "outer_ip" not in o)
    assert "encap" not in stop  # a Register-Stop carries no packet: not a tunnel
    labels = frames("mpls.pcap")
    assert [m["label"] for m in labels[3]["encap"][0]["labels"]] == [16, 17]
    assert labels[3]["icmp"]["type"] == 0
    assert labels[0]["ip"]["src"] == "10.77.1.2"


def test_pppoe_llc_macsec() -> None:
    objs = frames("pppoe.pcap")
    assert kinds(objs[0]) == ["pppoe", "ppp"] and objs[0]["encap"][0]["session"] == 0x1C
    assert objs[0]["icmp"]["seq"] == 1
    padi = next(o for o in objs if o.get("encap", [{}])[0].get("code") == 9)
    assert "ip" not in padi
    snap = frames("llc-snap.pcap")
    assert kinds(snap[0]) == ["llc", "snap"] and snap[0]["arp"]["op"] == 1
    assert snap[4]["icmp"]["seq"] == 1 and snap[5]["icmp"]["seq"] == 2  # SNAP, RFC 948
    sec = frames("macsec.pcap")
    assert sec[0]["encap"][0]["sci"] == "0200000001020001" and sec[0]["icmp"]["seq"] == 1
    assert sec[4]["encap"][0]["sci"] is None and sec[4]["icmp"]["type"] == 0
    assert "arp" in sec[5] and sec[5]["encap"][0]["short_length"] == 30
    assert sec[6]["encap"][0]["encrypted"] is True and "ip" not in sec[6]
    assert kinds(sec[7]) == ["macsec", "vlan"] and sec[7]["icmp"]["seq"] == 2
    assert sec[8]["problems"] == ["malformed: macsec: TCI 0xa0, short length 0x00"]


def test_link_types() -> None:
    ppp = frames("ppp.pcap")
    assert ppp[0]["ppp"] == {"address": 255, "control": 3, "protocol": 0x21}
    assert ppp[2]["ppp"]["address"] is None and ppp[2]["icmp"]["seq"] == 2
    assert kinds(ppp[3]) == ["mpls"] and ppp[3]["icmp"]["seq"] == 3
    assert frames("ppp-ether.pcap")[0]["pppoe"]["session"] == 0x1C
    assert frames("ppp-serial.pcap")[1]["chdlc"]["address"] == 0x0F
    hdlc = frames("chdlc.pcap")
    assert hdlc[0]["chdlc"]["protocol"] == 0x0800 and hdlc[0]["icmp"]["seq"] == 1
    ipnet = frames("ipnet.pcap")
    assert ipnet[0]["ipnet"]["zsrc"] == 0xFFFFFFFF and ipnet[0]["icmp"]["seq"] == 1
    arc = frames("arcnet-bsd.pcap")
    assert arc[0]["arcnet"] == {"src": 0xBE, "dst": 0, "type": 213, "split_flag": 0,
                                "sequence": 0x165}
    assert arc[0]["arp"]["sha"] == "be"
    assert "ip" in arc[3] and "ip" not in arc[4]  # a middle fragment has no IPv4 header
    ipoib = frames("tcpdump/ipoib.pcap")
    assert ipoib[0]["ipoib"] == {"dst_qpn": 0x550, "dgid": "fe80::10:e000:664a:b451",
                                 "type": 0x0800}
    fr = frames("frame-relay.pcap")
    assert fr[0]["fr"] == {"dlci": 100, "address_length": 2, "flags": 0, "ethertype": 0x0800}
    assert fr[1]["fr"]["nlpid"] == 0xCC and fr[1]["icmp"]["type"] == 0
    assert fr[2]["icmp"]["seq"] == 2 and "arp" in fr[3]
    assert fr[5]["problems"] == ["malformed: fr: invalid Q.922 address"]
    dsa = frames("tcpdump/dsa.pcap")
    assert dsa[0]["encap"][0]["mode"] == 3 and dsa[0]["icmp"]["seq"] == 1


def test_cut_icmp_header_still_gives_type_code_and_id() -> None:
    """As tshark shows them: type, code, checksum, identifier when their bytes are there."""
    objs = frames("truncated.pcap")
    four = objs[6]  # 4 bytes of ICMP
    assert four["icmp"] == {"type": 8, "code": 0, "checksum": 0x6F26, "checksum_ok": None,
                            "id": None, "seq": None}
    six = frames("zeek/trunc/icmp-header-trunc.pcap")[0]
    assert six["icmp"]["id"] == 0x69DF and six["icmp"]["checksum_ok"] is None


def test_bogus_ihl_and_cut_header_still_give_the_addresses() -> None:
    objs = frames("malformed.pcap")
    for ihl0 in objs[:2]:
        assert ihl0["ip"]["src"] == "10.77.1.2" and ihl0["ip"]["dst"] == "10.77.3.2"
        assert ihl0["ip"]["checksum_ok"] is None
    assert objs[0]["ip"]["ihl"] == 0 and objs[1]["ip"]["ihl"] == 4
    cut = frames("truncated.pcap")[3]  # 12 bytes of IPv4 header
    assert cut["ip"]["ttl"] == 64 and cut["ip"]["src"] is None
    assert json.dumps(cut)


def test_checksum_null_only_when_bytes_are_missing() -> None:
    for name in ("udp-tunnels.pcap", "gre-erspan.pcap", "macsec.pcap", "ppp.pcap"):
        for d in pcapping.read_capture(str(CAPTURES / name)):
            if d.icmp is not None and d.icmp.checksum_ok is None:
                assert d.truncated or d.ip.mf, (name, d.frame)


@pytest.mark.parametrize("name", [
    "udp-tunnels.pcap", "gre-erspan.pcap", "ipip-pim.pcap", "mpls.pcap", "pppoe.pcap",
    "llc-snap.pcap", "macsec.pcap", "ppp.pcap", "chdlc.pcap", "arcnet-bsd.pcap"])
def test_tally_agrees_and_counts_the_inner_icmp(name: str) -> None:
    ref, fast = Tally(), Tally()
    for rec in PcapReader(str(CAPTURES / name)):
        ref.add(decode_frame(rec.data, rec.linktype))
        tally(fast, rec.data, rec.linktype)
    assert fast.as_tuple() == ref.as_tuple()
    assert ref.icmp > 0 and ref.icmp_types


def test_nesting_is_bounded() -> None:
    """IP in IP in IP ... as deep as a frame allows: a problem, not a recursion error."""
    from pcapping.wire.ipv4 import IPv4Header

    inner = b""
    for _ in range(200):
        inner = IPv4Header(b"\x01\x02\x03\x04", b"\x05\x06\x07\x08", 4).encode(inner)
    d = decode_frame(inner, 101)
    assert d.malformed and any("nested" in p for p in d.problems)


def test_decap_is_loaded_only_when_a_frame_needs_it() -> None:
    """decode's list of decap's link types is decap's own, and plain Ethernet (and `send`,
    which must start fast) never imports decap."""
    import subprocess
    import sys

    from pcapping import decap, decode

    assert set(decap.LINKS) == decode._DECAP_LINKTYPES
    code = ("import sys, pcapping.send, pcapping.decode as d\n"
            "from pcapping.io.pcapfile import PcapReader\n"
            "for r in PcapReader(sys.argv[1]): d.decode_frame(r.data, r.linktype).to_dict()\n"
            "print('pcapping.decap' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code, str(CAPTURES / "echo.pcap")],
                         capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"
