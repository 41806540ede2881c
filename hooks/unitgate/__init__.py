"""unitgate: gate commits of under-hardened systemd units and podman quadlets."""

__version__ = "0.1.0"
