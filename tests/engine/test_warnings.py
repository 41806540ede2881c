"""Warnings systemd-analyze prints for directives that do not change the score, at their line.

Which lines systemd warns about was checked against systemd-analyze 252, 255, 257 and 262 by the
differential harness (`python -m tests.differential.run --warnings 20`); here each kind is pinned.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from unitgate.engine import analyze_paths


def _warned(tmp_path: Path, line: str, model: str = "systemd-252", section: str = "Service") -> list[str]:
    """The diagnostics of a unit whose line 5 is `line` (in `section`), as "LINE: message"."""
    other = "Unit" if section == "Service" else "Service"
    fill = {"Unit": "Description=t", "Service": "ExecStart=/bin/true"}
    text = f"[{other}]\n{fill[other]}\n[{section}]\n{fill[section]}\n{line}\n"
    path = tmp_path / "t.service"
    path.write_text(text)
    (result,) = analyze_paths([str(path)], model)
    assert result.state.value == "loaded"
    return [f"{d.location.line}: {d.message}" for d in result.diagnostics]


@pytest.mark.parametrize(
    ("line", "section"),
    [
        ("Documentation=foo", "Unit"),
        ("Environment=1A=x", "Service"),
        ("Environment=NOEQUALS", "Service"),
        ("EnvironmentFile=relative/file", "Service"),
        ("ReadWritePaths=/ok relative", "Service"),
        ("ConditionPathExists=!relative", "Unit"),
        ("LimitNOFILE=lots", "Service"),
        ("LimitNOFILE=infinity:1024", "Service"),
        ("TimeoutStopSec=fast", "Service"),
        ("CPUQuota=0%", "Service"),
        ("StandardOutput=syslog", "Service"),
        ("KillMode=none", "Service"),
        ("Delegate=cpu bogus", "Service"),
        ("BusName=", "Service"),
        ("WorkingDirectory=-", "Service"),
    ],
)
def test_warned_at_its_line(tmp_path: Path, line: str, section: str) -> None:
    for model in ("systemd-252", "systemd-262"):
        warned = _warned(tmp_path, line, model, section)
        assert [w for w in warned if w.startswith("5: ")], (line, model, warned)


@pytest.mark.parametrize(
    ("line", "section"),
    [
        ("Documentation=man:foo(8) https://example.org file:/usr/share/doc/foo", "Unit"),
        ("Environment=A=1 B=two_words", "Service"),
        ("EnvironmentFile=-/etc/default/foo", "Service"),
        ("ReadWritePaths=-/var/lib/foo +/run/x", "Service"),
        ("ConditionPathExists=|!/etc/foo", "Unit"),
        ("LimitNOFILE=1024:4096", "Service"),
        ("LimitCORE=1G", "Service"),
        ("TimeoutStopSec=1min 30s", "Service"),
        ("CPUQuota=12.5%", "Service"),
        ("StandardOutput=journal+console", "Service"),
        ("KillMode=", "Service"),
        ("Delegate=cpu memory", "Service"),
    ],
)
def test_good_values_are_quiet(tmp_path: Path, line: str, section: str) -> None:
    assert _warned(tmp_path, line, "systemd-257", section) == []
