"""The rooms of the product (docs/architecture.md, "Rooms"): the sub-packages of app/ and
builder/ import one another from the ground up, never back up and never in a circle, and
every one of them is installed under the product's own package name.

The import graph is read from the code's own import statements (relative ones resolved
against the file, absolute ones by the package they name), lazy imports included."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = "contact_events"
# The rooms, ground floor first: a room may import only rooms before it in this list.
ROOMS = (
    "builder/core",
    "builder/engine",
    "builder/mirror",
    "app/core",
    "app/pool",
    "builder/stages",
    "builder/validate",
    "builder/pipeline.py",
    "app/jobs",
    "app/canned",
    "app/http",
    "builder/doctor.py",
    "builder/demo",
    "builder/cli.py",
)


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PRODUCT, *parts])


def room_of(module: str) -> str | None:
    """The room a module of the product stands in (None: a package's face, the root)."""
    parts = module.removeprefix(f"{PRODUCT}.").split(".")
    if len(parts) < 2:
        return None
    folder = f"{parts[0]}/{parts[1]}"
    return folder if (ROOT / folder).is_dir() else f"{folder}.py"


def imported(path: Path) -> set[str]:
    """The product's modules (and packages) a file imports."""
    module = module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
    return {m for m in found if m.startswith(f"{PRODUCT}.")}


def edges() -> set[tuple[str, str, str]]:
    """(room, room it imports, the importing file) for every import between rooms."""
    out = set()
    for tree in ("app", "builder"):
        for path in (ROOT / tree).rglob("*.py"):
            here = room_of(module_of(path))
            for target in imported(path):
                there = room_of(target)
                if here and there and there != here:
                    out.add((here, there, str(path.relative_to(ROOT))))
    return out


def test_every_module_stands_in_a_listed_room():
    for tree in ("app", "builder"):
        for path in (ROOT / tree).rglob("*.py"):
            room = room_of(module_of(path))
            assert room is None or room in ROOMS, f"{path}: in no room of ROOMS ({room})"


def test_no_import_runs_back_up_and_no_circle():
    order = {room: i for i, room in enumerate(ROOMS)}
    found = edges()
    assert found, "the graph was read"
    back = sorted(e for e in found if order[e[1]] >= order[e[0]])
    assert back == [], back  # a room imports only rooms below it: so no circle either
    # What the layers mean: the API reads the builder's shared rooms only (its rebuild
    # job loads the pipeline when it runs), and only the CLI, the shell, serves the API.
    api = {there for here, there, _ in found if here.startswith("app/")}
    assert {r for r in api if r.startswith("builder/")} <= {
        "builder/core",
        "builder/mirror",
        "builder/pipeline.py",
    }
    assert {here for here, there, _ in found if there.startswith("app/")} <= {"builder/cli.py"} | {
        r for r in ROOMS if r.startswith("app/")
    }


def test_the_product_installs_every_package_under_its_own_name():
    """pyproject.toml lists every package of app/ and builder/ as contact_events.*, maps
    the folders there, ships queries/ with it and names no top-level app or builder."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    packages = {
        module_of(init)
        for tree in ("app", "builder")
        for init in (ROOT / tree).rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == packages | {f"{PRODUCT}.queries"}
    assert setuptools["package-dir"] == {
        f"{PRODUCT}.app": "app",
        f"{PRODUCT}.builder": "builder",
        f"{PRODUCT}.queries": "queries",
    }
    assert "**/*.sql" in setuptools["package-data"][f"{PRODUCT}.queries"]
    assert config["project"]["scripts"]["contact-events"].startswith(f"{PRODUCT}.builder.")
