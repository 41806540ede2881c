"""systemd's per-directive parsers, grouped by the kind of value they read (see settings.py)."""
