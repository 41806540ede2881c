"""The keys quadlet 5.4.2 accepts (`supportedContainerKeys`, `supportedQuadletKeys` in quadlet.go).

Only `[Container]` and `[Quadlet]` are checked; every other group is copied into the service as is.
An unknown key in either rejects the file after drop-ins are merged, naming the first unknown key
in the order keys first appear.
"""

from __future__ import annotations

from unitgate.model import Diagnostic, Location, Severity
from unitgate.quadlet.parser import QuadletFile

QUADLET_VERSION = "5.4.2"

CONTAINER_GROUP = "Container"
QUADLET_GROUP = "Quadlet"
SERVICE_GROUP = "Service"
UNIT_GROUP = "Unit"
INSTALL_GROUP = "Install"

CONTAINER_KEYS: frozenset[str] = frozenset(
    {
        "AddCapability",
        "AddDevice",
        "AddHost",
        "Annotation",
        "AutoUpdate",
        "CgroupsMode",
        "ContainerName",
        "ContainersConfModule",
        "DNS",
        "DNSOption",
        "DNSSearch",
        "DropCapability",
        "Entrypoint",
        "Environment",
        "EnvironmentFile",
        "EnvironmentHost",
        "Exec",
        "ExposeHostPort",
        "GIDMap",
        "GlobalArgs",
        "Group",
        "GroupAdd",
        "HealthCmd",
        "HealthInterval",
        "HealthLogDestination",
        "HealthMaxLogCount",
        "HealthMaxLogSize",
        "HealthOnFailure",
        "HealthRetries",
        "HealthStartPeriod",
        "HealthStartupCmd",
        "HealthStartupInterval",
        "HealthStartupRetries",
        "HealthStartupSuccess",
        "HealthStartupTimeout",
        "HealthTimeout",
        "HostName",
        "IP",
        "IP6",
        "Image",
        "Label",
        "LogDriver",
        "LogOpt",
        "Mask",
        "Mount",
        "Network",
        "NetworkAlias",
        "NoNewPrivileges",
        "Notify",
        "PidsLimit",
        "Pod",
        "PodmanArgs",
        "PublishPort",
        "Pull",
        "ReadOnly",
        "ReadOnlyTmpfs",
        "RemapGid",
        "RemapUid",
        "RemapUidSize",
        "RemapUsers",
        "Rootfs",
        "RunInit",
        "SeccompProfile",
        "Secret",
        "SecurityLabelDisable",
        "SecurityLabelFileType",
        "SecurityLabelLevel",
        "SecurityLabelNested",
        "SecurityLabelType",
        "ServiceName",
        "ShmSize",
        "StartWithPod",
        "StopSignal",
        "StopTimeout",
        "SubGIDMap",
        "SubUIDMap",
        "Sysctl",
        "Timezone",
        "Tmpfs",
        "UIDMap",
        "Ulimit",
        "Unmask",
        "User",
        "UserNS",
        "VolatileTmp",
        "Volume",
        "WorkingDir",
    }
)

QUADLET_KEYS: frozenset[str] = frozenset({"DefaultDependencies"})

# [Pod] keys 5.4.2 accepts (supportedPodKeys); a .pod with another key is not generated.
POD_KEYS: frozenset[str] = frozenset(
    {
        "AddHost",
        "ContainersConfModule",
        "DNS",
        "DNSOption",
        "DNSSearch",
        "GIDMap",
        "GlobalArgs",
        "IP",
        "IP6",
        "Network",
        "NetworkAlias",
        "PodName",
        "PodmanArgs",
        "PublishPort",
        "RemapGid",
        "RemapUid",
        "RemapUidSize",
        "RemapUsers",
        "ServiceName",
        "ShmSize",
        "SubGIDMap",
        "SubUIDMap",
        "UIDMap",
        "UserNS",
        "Volume",
    }
)

# [Service] keys quadlet 5.6.0+ warns about ("use at your own risk"); 5.4.2 passes them silently, but
# they change the podman process, never the container, so they are findings either way.
UNSUPPORTED_SERVICE_KEYS: tuple[str, ...] = ("User", "Group", "DynamicUser")

# The file types quadlet generates services from (5.4.2 main.go supportedExtensions).
QUADLET_EXTENSIONS: tuple[str, ...] = (
    ".container",
    ".volume",
    ".kube",
    ".network",
    ".image",
    ".build",
    ".pod",
)


def unknown_key_error(
    unit: QuadletFile,
    display_path: str,
    container_keys: frozenset[str] = CONTAINER_KEYS,
    version: str = QUADLET_VERSION,
) -> Diagnostic | None:
    """checkForUnknownKeys: the first unsupported key of [Container], then of [Quadlet]."""
    for group, supported in ((CONTAINER_GROUP, container_keys), (QUADLET_GROUP, QUADLET_KEYS)):
        for key in unit.keys(group):
            if key not in supported:
                first = next(a for a in unit.lines(group) if a.key == key)
                return Diagnostic(
                    first.location,
                    f"quadlet {version} refuses the file: unsupported key '{key}' in group "
                    f"'{group}' in {display_path}",
                    Severity.ERROR,
                    "UGQ002",
                )
    return None


def unsupported_service_key_warnings(
    unit: QuadletFile, quadlet_warns: bool = False
) -> tuple[Diagnostic, ...]:
    """[Service] User=/Group=/DynamicUser=: a finding in every release; `quadlet_warns` (5.6+) says
    quadlet prints its own warning too."""
    return tuple(
        Diagnostic(
            a.location,
            (
                f"Warning: using key {a.key} in the Service group is not supported - use at your own risk"
                if quadlet_warns
                else f"quadlet does not support the key {a.key}= in [Service] (podman ≥5.6 warns 'use at "
                "your own risk')"
            )
            + "; it changes the podman process, not the container. Use User=/Group= in [Container]",
            Severity.WARNING,
            "UGQ010",
        )
        for a in unit.lines(SERVICE_GROUP)
        if a.key in UNSUPPORTED_SERVICE_KEYS
    )


def location_of_first(unit: QuadletFile, group: str, key: str) -> Location | None:
    for a in unit.lines(group):
        if a.key == key:
            return a.location
    return None
