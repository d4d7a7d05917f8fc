"""Application printers, each a model of one tcpdump 4.99.3 print-*.c file."""
