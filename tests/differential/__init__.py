"""Differential testing of unitgate against `systemd-analyze security --offline=true`."""
