"""Probing: the pure state machines that build requests and match what answers them."""
