"""tcpdump 4.99's text, reproduced from the bytes: the formatter and its application printers.

``TcpdumpFormatter`` (in ``formatter``) prints one frame; ``apps/`` holds the printers of
the application protocols tcpdump decodes inside ICMP quotes (text, DNS, RX, SNMP, NTP,
syslog); ``tcpopt`` the TCP options.
"""

from pcapping.tcpdump.formatter import TcpdumpFormatter, hex_ascii, split_records

__all__ = ["TcpdumpFormatter", "hex_ascii", "split_records"]
