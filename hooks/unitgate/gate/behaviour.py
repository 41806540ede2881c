"""Which hardening lines can change what a service may do, and so need testing before they ship.

Most of systemd-analyze's checks are met by lines a service never notices (kernel tunables read-only,
no realtime scheduling...). The directives here restrict what the service can reach: its network,
the user it runs as, the address families and system calls it may use, the files it may write, the
devices and capabilities it holds. `unitgate fix` and the UG201 advice prefer the others, and mark
these wherever they suggest or write them.
"""

from __future__ import annotations

# Directive name (unit or [Container] key) -> what it may take away from the service.
CHANGES: dict[str, str] = {
    "PrivateNetwork": "network",
    "IPAddressDeny": "network",
    "IPAddressAllow": "network",
    "RestrictNetworkInterfaces": "network",
    "SocketBindDeny": "network",
    "RestrictAddressFamilies": "address families",
    "User": "user",
    "Group": "user",
    "DynamicUser": "user",
    "SupplementaryGroups": "user",
    "PrivateUsers": "user",
    "SystemCallFilter": "system calls",
    "SystemCallArchitectures": "system calls",
    "MemoryDenyWriteExecute": "system calls",
    "ProtectSystem": "writable paths",
    "ProtectHome": "writable paths",
    "ReadWritePaths": "writable paths",
    "ReadOnlyPaths": "writable paths",
    "InaccessiblePaths": "writable paths",
    "TemporaryFileSystem": "writable paths",
    "RootDirectory": "writable paths",
    "RootImage": "writable paths",
    "PrivateTmp": "writable paths",
    "PrivateDevices": "devices",
    "DevicePolicy": "devices",
    "DeviceAllow": "devices",
    "CapabilityBoundingSet": "capabilities",
    "AmbientCapabilities": "capabilities",
    "RestrictNamespaces": "namespaces",
    # [Container] keys
    "Network": "network",
    "UserNS": "user",
    "ReadOnly": "writable paths",
    "DropCapability": "capabilities",
}


def changes(line: str) -> str | None:
    """What `Key=value` (or `Section.Key`) may take away from the service; None when nothing it uses."""
    key = line.partition("=")[0].rpartition(".")[2].strip()
    return CHANGES.get(key)


def mark(line: str) -> str:
    """A suggestion with its warning, e.g. "PrivateNetwork=yes [changes behaviour: network]"."""
    what = changes(line)
    return f"{line} [changes behaviour: {what}]" if what else line
