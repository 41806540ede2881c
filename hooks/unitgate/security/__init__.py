"""systemd-analyze security, reimplemented: settings, checks and the exposure score."""
