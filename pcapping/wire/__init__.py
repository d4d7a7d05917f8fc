"""Pure codecs: bytes in, values out (parse), values in, bytes out (encode). No I/O."""
