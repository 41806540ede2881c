"""Unit-file syntax and drop-in discovery, as systemd applies them."""
