"""Drop-in reach is looked up in an index built once per search path (linear in the repository's size).

The index must give what scanning every unit of the search path gives, in the same order: this scan
is the definition, written out plainly, and every drop-in directory of the fixtures and of the corpus
(when present) is resolved both ways, plus stems no directory has (instances, dash prefixes, types).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from unitgate.parse import dropins, unitname

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("UNITGATE_CORPUS", REPO.parent / "shared/corpus/debian-bookworm"))


def _scan(sp: dropins.SearchPath, stem: str) -> list[str]:
    """Every unit of the search path whose drop-in search includes `stem.d`, in name-map order."""
    names = dropins.name_map(sp)
    candidates = list(names)
    if unitname.kind(stem) == "instance" and stem not in names:
        candidates.append(stem)
    out: list[str] = []
    for cand in candidates:
        if stem in unitname.UNIT_TYPES and unitname.split_type(cand)[1] != stem:
            continue
        real = dropins.resolve_alias(sp, dropins.analysed_name(cand))
        if real in out or dropins.fragment_of(sp, real) is None:
            continue
        own = {s for n in [real, *dropins.aliases_of(sp, real)] for s in unitname.dropin_dir_names(n)}
        if stem in unitname.UNIT_TYPES or stem in own:
            out.append(real)
    return out


def _search_paths(top: Path) -> dict[tuple[str, ...], tuple[dropins.SearchPath, set[str]]]:
    """Each search path under `top` with the drop-in stems found in it and stems no directory has."""
    found: dict[tuple[str, ...], tuple[dropins.SearchPath, set[str]]] = {}
    for dirpath, dirnames, _ in os.walk(top):
        if not any(d.endswith(".d") for d in dirnames) and not any(
            unitname.is_valid(f) for f in os.listdir(dirpath)
        ):
            continue
        sp = dropins.search_path_for(dirpath)
        _, stems = found.setdefault(sp.dirs, (sp, set()))
        stems.update(d[:-2] for d in dirnames if d.endswith(".d"))
        for name in os.listdir(dirpath):
            if unitname.is_valid(name):
                stems.update(unitname.dropin_dir_names(dropins.analysed_name(name)))
                stems.add(unitname.split_type(name)[1])
                if unitname.kind(name) == "template":  # an instance with no file of its own
                    stems.add(unitname.with_instance(name, "other"))
    return found


@pytest.mark.parametrize("top", [REPO / "fixtures", CORPUS / "units"], ids=["fixtures", "corpus"])
def test_index_matches_scan(top: Path) -> None:
    if not top.is_dir():
        pytest.skip(f"{top.name} not present")
    paths = _search_paths(top)
    assert paths
    for sp, stems in paths.values():
        for stem in sorted(stems):
            assert dropins.units_reached_by_dropin(sp, stem) == _scan(sp, stem), (sp.dirs[0], stem)


def test_index_follows_a_cleared_name_map(tmp_path: Path) -> None:
    """A run that clears the directory caches (a new run in the same process) sees new units."""
    unit_dir = tmp_path / "etc/systemd/system"
    (unit_dir / "web-.service.d").mkdir(parents=True)
    (unit_dir / "web-a.service").write_text("[Service]\nExecStart=/bin/true\n")
    sp = dropins.search_path_for(str(unit_dir))
    assert dropins.units_reached_by_dropin(sp, "web-.service") == ["web-a.service"]
    (unit_dir / "web-b.service").write_text("[Service]\nExecStart=/bin/true\n")
    for cached in (dropins._listdir, dropins._names_in, dropins.name_map):
        cached.cache_clear()
    assert dropins.units_reached_by_dropin(sp, "web-.service") == ["web-a.service", "web-b.service"]
