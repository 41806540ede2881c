# ruff: noqa: E501  (expected output lines are compared whole)
"""The four reporters, from hand-built findings: exact text for github, schema-valid SARIF."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import jsonschema
import pytest
from conftest import FIXTURES, ROOT

from unitgate import cli
from unitgate.findings import RULES, Finding, Level, RunInfo, UnitSummary
from unitgate.model import Location
from unitgate.report import REPORTERS, github, sarif, text

SARIF_SCHEMA = ROOT / "fixtures" / "sarif-2.1.0.schema.json"
SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"

FINDINGS = (
    Finding(
        "UG101",
        Location("units/web.service.d/override.conf", 1),
        "web.service: NoNewPrivileges= is not set, and the policy requires it: write NoNewPrivileges=yes in [Service]",
        "web.service",
        "NoNewPrivileges",
    ),
    Finding(
        "UG102",
        Location("units/web.service.d/override.conf", 2),
        "web.service: ProtectSystem=no is not accepted by the policy: write ProtectSystem=strict",
        "web.service",
        "ProtectSystem",
    ),
    Finding(
        "UG201",
        Location("units/web.service", 4),
        "web.service: exposure 9.2 is above the maximum 5.0: ...",
        "web.service",
    ),
    Finding(
        "UG304",
        Location("units/web.service", 9),
        "systemd would ignore this line: unknown key 'Frobnicate'",
        "web.service",
    ),
    Finding(
        "UG302",
        Location("units/old.service", 0),
        "old.service is masked (empty file or symlink to /dev/null): not scored",
        "old.service",
    ),
)
INFO = RunInfo(
    version="0.1.0",
    units=(
        UnitSummary(
            "web.service",
            "units/web.service.d/override.conf",
            "loaded",
            92,
            50,
            ".unitgate.toml (extends strict@1)",
        ),
        UnitSummary(
            "old.service", "units/old.service", "masked", None, 50, ".unitgate.toml (extends strict@1)"
        ),
    ),
    files=("units/web.service.d/override.conf", "units/old.service"),
)


def test_reporters_cover_every_format() -> None:
    assert set(REPORTERS) == set(cli.FORMATS)


def test_github_exact_output() -> None:
    assert github.render(FINDINGS, INFO) == (
        "::error file=units/web.service.d/override.conf,line=1,title=UG101 required-directive-missing::web.service: NoNewPrivileges= is not set, and the policy requires it: write NoNewPrivileges=yes in [Service]\n"
        "::error file=units/web.service.d/override.conf,line=2,title=UG102 required-directive-value::web.service: ProtectSystem=no is not accepted by the policy: write ProtectSystem=strict\n"
        "::error file=units/web.service,line=4,title=UG201 exposure-above-maximum::web.service: exposure 9.2 is above the maximum 5.0: ...\n"
        "::warning file=units/web.service,line=9,title=UG304 line-ignored-by-systemd::systemd would ignore this line: unknown key 'Frobnicate'\n"
        "::notice file=units/old.service,line=1,title=UG302 unit-masked::old.service is masked (empty file or symlink to /dev/null): not scored\n"
        "Found 3 errors, 1 warning, 1 note in 2 units; policy: .unitgate.toml (extends strict@1).\n"
    )


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\nb\r", "a%0Ab%0D", "a%0Ab%0D"),
        ("x:y,z", "x:y,z", "x%3Ay%2Cz"),
        ("%0A", "%250A", "%250A"),  # % first: an already-escaped-looking text survives
    ],
)
def test_github_escaping(raw: str, data: str, prop: str) -> None:
    assert github.escape_data(raw) == data
    assert github.escape_property(raw) == prop


def test_github_escapes_path_and_message() -> None:
    # A line break inside a message can only come from the repository: shown escaped, never as a break.
    finding = Finding("UG102", Location("odd,dir/a:b.service", 3), "50% of\nit", "a:b.service", "User")
    assert github.annotation(finding) == (
        "::error file=odd%2Cdir/a%3Ab.service,line=3,title=UG102 required-directive-value::50%25 of\\x0ait"
    )


def test_github_annotation_limit_summarises_the_rest() -> None:
    many = tuple(
        Finding("UG101", Location("a.service", n), f"finding {n}", "a.service", f"D{n}") for n in range(1, 13)
    )
    out = github.render(many, RunInfo("0.1.0")).splitlines()
    assert out[:9] == [
        f"::error file=a.service,line={n},title=UG101 required-directive-missing::finding {n}"
        for n in range(1, 10)
    ]
    assert out[9] == (
        "::error title=unitgate::3 more errors are not shown as annotations (GitHub keeps 10 per step, "
        "spread here across units); they are listed in the job summary and in this step's log"
    )
    assert out[10:13] == [f"a.service:{n}:1: UG101 finding {n}" for n in (10, 11, 12)]
    assert out[13] == "Found 12 errors in 0 units."
    assert sum(line.startswith("::error") for line in out) == 10


def test_github_annotation_slots_are_spread_across_units() -> None:
    legacy = [
        Finding("UG101", Location("legacy.service", 4), f"m{n}", "legacy.service", f"D{n}") for n in range(9)
    ]
    other = [Finding("UG102", Location("web.service", n), f"w{n}", "web.service", f"W{n}") for n in (7, 8, 9)]
    out = github.render((*legacy, *other), RunInfo("0.1.0")).splitlines()
    annotations = [line for line in out if line.startswith("::error file=")]
    assert len(annotations) == 9
    assert sum("file=web.service" in line for line in annotations) == 3  # every unit gets slots
    assert sum("file=legacy.service" in line for line in annotations) == 6
    assert "::error title=unitgate::3 more errors" in out[9]


def test_github_annotations_stay_within_the_job_limit() -> None:
    findings = [
        Finding(rule, Location(f"u{n}.service", 1), "m", f"u{n}.service")
        for rule in ("UG101", "UG304", "UG302")
        for n in range(30)
    ]
    shown, left = github.select(findings)
    assert len(shown) == 27 and sum(left.values()) == 63
    assert len(shown) + len(left) <= github.ANNOTATIONS_PER_JOB


def test_text_output() -> None:
    assert text.render(FINDINGS, INFO) == (
        "units/web.service.d/override.conf:1:1: UG101 web.service: NoNewPrivileges= is not set, and the policy requires it: write NoNewPrivileges=yes in [Service]\n"
        "units/web.service.d/override.conf:2:1: UG102 web.service: ProtectSystem=no is not accepted by the policy: write ProtectSystem=strict\n"
        "\n"
        "units/web.service:4:1: UG201 web.service: exposure 9.2 is above the maximum 5.0: ...\n"
        "units/web.service:9:1: UG304 systemd would ignore this line: unknown key 'Frobnicate'\n"
        "\n"
        "units/old.service:1:1: UG302 old.service is masked (empty file or symlink to /dev/null): not scored\n"
        "\n"
        "Found 3 errors, 1 warning, 1 note in 2 units; policy: .unitgate.toml (extends strict@1).\n"
    )


def test_text_colour_only_when_asked() -> None:
    plain = text.line(FINDINGS[0])
    coloured = text.line(FINDINGS[0], color=True)
    assert "\033[" not in plain
    assert coloured.startswith(
        "\033[1munits/web.service.d/override.conf\033[0m\033[2m:1:1:\033[0m \033[1;31mUG101\033[0m "
    )
    assert text.render((), RunInfo("0.1.0")) == "All checks passed: 0 units.\n"


def test_json_document() -> None:
    doc = json.loads(REPORTERS["json"](FINDINGS, INFO))
    assert doc["version"] == 1
    assert doc["summary"] == {
        "errors": 3,
        "warnings": 1,
        "notes": 1,
        "suppressed": 0,
        "baselined": 0,
        "units": 2,
        "passed": False,
    }
    assert doc["units"][0] == {
        "unit": "web.service",
        "path": "units/web.service.d/override.conf",
        "state": "loaded",
        "exposure": 9.2,
        "max_exposure": 5.0,
        "policy": ".unitgate.toml (extends strict@1)",
        "model": "systemd-252",
        "podman": None,
        "mode": None,
    }
    assert doc["findings"][0] == {
        "rule": "UG101",
        "name": "required-directive-missing",
        "level": "error",
        "path": "units/web.service.d/override.conf",
        "line": 1,
        "column": 1,
        "unit": "web.service",
        "directive": "NoNewPrivileges",
        "message": FINDINGS[0].message,
        "url": "https://www.freedesktop.org/software/systemd/man/systemd.exec.html#NoNewPrivileges=",
        "rule_url": "https://example.invalid/unitgate/blob/main/docs/rules/UG101.md",
        "models": [],
    }
    assert doc["findings"][4]["line"] == 1  # a whole-file finding points at line 1


def _sarif_validator() -> jsonschema.Draft4Validator:
    raw = SARIF_SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SARIF_SCHEMA_SHA256  # the vendored copy is untouched
    return jsonschema.Draft4Validator(json.loads(raw))


@pytest.mark.parametrize("findings", [FINDINGS, ()], ids=["findings", "clean"])
def test_sarif_is_valid(findings: tuple[Finding, ...]) -> None:
    doc = json.loads(sarif.render(findings, INFO))
    errors = sorted(_sarif_validator().iter_errors(doc), key=str)
    assert errors == []


def test_sarif_rules_and_results() -> None:
    doc = json.loads(sarif.render(FINDINGS, INFO))
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert sorted(rules) == ["UG101/NoNewPrivileges", "UG102/ProtectSystem", "UG201", "UG302", "UG304"]
    nnp = rules["UG101/NoNewPrivileges"]
    assert nnp["helpUri"] == "https://example.invalid/unitgate/blob/main/docs/rules/UG101.md"
    assert "NoNewPrivileges= is documented in systemd.exec(5)" in nnp["help"]["text"]
    assert (
        "https://www.freedesktop.org/software/systemd/man/systemd.exec.html#NoNewPrivileges="
        in nnp["help"]["text"]
    )
    assert nnp["help"]["markdown"].startswith("# UG101 required-directive-missing\n")
    assert nnp["properties"]["security-severity"] == "7.5"
    assert all(float(r["properties"]["security-severity"]) > 0 for r in rules.values())
    assert rules["UG201"]["helpUri"].endswith("/docs/rules/UG201.md")
    first = run["results"][0]
    assert first["ruleId"] == "UG101/NoNewPrivileges"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == first["ruleId"]
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "units/web.service.d/override.conf", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1, "startColumn": 1, "endLine": 1},
    }
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///")
    # The fingerprint ignores the line, so moving a line keeps the alert.
    moved = replace(FINDINGS[0], location=Location(FINDINGS[0].location.path, 7))
    assert sarif.fingerprint(moved) == first["partialFingerprints"]["unitgate/v2"]


def test_sarif_fingerprints_are_unique_per_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNITGATE_DOCS_URL", "https://github.com/o/unitgate/blob/v1/docs/rules")
    path = "units/web.service"
    two = (
        Finding(
            "UG304",
            Location(path, 9),
            "systemd would ignore this line: unknown key 'Frobnicate'",
            "web.service",
        ),
        Finding(
            "UG304", Location(path, 12), "systemd would ignore this line: unknown key 'Frob'", "web.service"
        ),
        Finding(
            "UG304", Location(path, 14), "systemd would ignore this line: unknown key 'Frob'", "web.service"
        ),
    )
    doc = json.loads(sarif.render(two, INFO))
    prints = [r["partialFingerprints"]["unitgate/v2"] for r in doc["runs"][0]["results"]]
    assert len(set(prints)) == 3
    assert prints[2] == prints[1] + "/1"
    rule = doc["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["helpUri"] == "https://github.com/o/unitgate/blob/v1/docs/rules/UG304.md"
    assert sorted(_sarif_validator().iter_errors(doc), key=str) == []


def test_rule_table() -> None:
    ids = [r.id for r in RULES]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(r.id[:2] == "UG" and r.id[2:].isdigit() and len(r.id) == 5 for r in RULES)
    assert {r.level for r in RULES} <= set(Level)


def test_vendored_schema_has_its_licence() -> None:
    assert (ROOT / "fixtures" / "sarif-2.1.0.schema.LICENSE.md").is_file()
    assert FIXTURES.parent == ROOT / "fixtures"
