"""Imports run down the layers only: plumbing, domain, reacting apps, interfaces, project.

A module may import from its own layer or a lower one. ``urls.py`` files and the settings may
name everything (they wire the layers together). The walk reads every import statement, the
ones inside functions included, so a lazy import cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
import fnmatch
import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]

#: The layers, lowest first. Keep in step with the README's "Architecture" section.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("commitments",),
    ("alerts", "webhooks", "feeds", "accounts"),
    ("api", "dashboard", "publicsite"),
    ("tracker",),
)

#: Modules that may name every layer.
WIRING = ("urls.py", "settings.py")

#: Upward imports tolerated, as (importer, imported module); none today. The last test fails
#: on an entry that no longer matches an import.
ALLOWED: set[tuple[str, str]] = set()


def _rank() -> dict[str, int]:
    return {package: level for level, group in enumerate(LAYERS) for package in group}


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Return the line and absolute module name of every import in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def upward_imports(root: Path) -> list[tuple[str, int, str]]:
    """Return ``(file, line, module)`` for each import of a higher layer under ``root``."""
    rank = _rank()
    violations = []
    for package, level in rank.items():
        for path in sorted((root / package).rglob("*.py")):
            if path.name in WIRING:
                continue
            for line, module in imported_modules(path.read_text(encoding="utf-8")):
                target = rank.get(module.partition(".")[0])
                if target is not None and target > level:
                    violations.append((path.relative_to(root).as_posix(), line, module))
    return violations


def test_no_module_imports_a_higher_layer():
    found = [v for v in upward_imports(ROOT) if (v[0], v[2]) not in ALLOWED]
    assert found == [], "\n".join(f"{file}:{line} imports {module}" for file, line, module in found)


def test_the_walk_finds_an_upward_import(tmp_path):
    """The checker itself: a synthetic tree with one upward import in each form is caught."""
    (tmp_path / "commitments" / "services").mkdir(parents=True)
    (tmp_path / "commitments" / "services" / "backup.py").write_text(
        "from alerts.models import Alert\n"
        "def later():\n"
        "    import webhooks.models\n",
        encoding="utf-8",
    )
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts" / "scan.py").write_text(
        "from commitments.models import Commitment\nfrom core import health\n", encoding="utf-8"
    )
    (tmp_path / "alerts" / "urls.py").write_text("from api import views\n", encoding="utf-8")
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "views.py").write_text("from api.views import X\n", encoding="utf-8")

    assert upward_imports(tmp_path) == [
        ("commitments/services/backup.py", 1, "alerts.models"),
        ("commitments/services/backup.py", 3, "webhooks.models"),
        ("feeds/views.py", 1, "api.views"),
    ]


def test_every_allowed_upward_import_still_exists():
    """An entry of ``ALLOWED`` that no longer matches an import is stale: delete it."""
    present = {(file, module) for file, _line, module in upward_imports(ROOT)}
    assert not ALLOWED - present, sorted(ALLOWED - present)


def test_every_layer_and_app_is_a_package_of_the_distribution():
    """``pyproject.toml`` left out webhooks and accounts: an installed wheel missed them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    ours = {config.name for config in apps.get_app_configs() if (ROOT / config.name).is_dir()}
    packages = ours | {package for group in LAYERS for package in group}
    left_out = sorted(p for p in packages if not any(fnmatch.fnmatch(p, i) for i in include))
    assert left_out == []


#: The apps that serve resources in the API v1, each from the same rooms.
API_APPS = ("commitments", "alerts", "webhooks", "feeds")

#: What the ``api`` app keeps: the REST plumbing every app's API shares, no app's resources.
API_PLUMBING = {
    "__init__.py", "admin.py", "apps.py", "authentication.py", "models.py", "pagination.py",
    "schema.py", "services.py", "throttling.py", "urls.py",
}


def test_every_app_serves_its_api_from_its_own_rooms():
    """Each app owns ``api/{serializers,views,urls}.py``; the ``api`` app only the plumbing."""
    for app in API_APPS:
        rooms = {path.name for path in (ROOT / app / "api").glob("*.py")}
        assert {"__init__.py", "serializers.py", "views.py", "urls.py"} <= rooms, app
    for app in ("commitments", "alerts", "webhooks"):
        assert (ROOT / app / "filtersets.py").is_file(), app
    assert {path.name for path in (ROOT / "api").glob("*.py")} <= API_PLUMBING
