"""The I/O shell: the only modules that touch pcapy, files, sockets or the kernel's tables.

- ``capture``: libpcap handles (the only pcapy importer) and the ``Capture`` protocol;
- ``pcapfile``: pcap/pcapng reader and writer in pure Python;
- ``netinfo``: routes, interfaces and addresses over rtnetlink.
"""
