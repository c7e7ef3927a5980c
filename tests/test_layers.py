"""Imports run one way: train -> eval -> qa -> index, never back up; and inside qa, the HTTP
surface (qa/http) -> the engine (qa/*.py) -> the read pipeline (qa/read)."""

import ast

import pytest

from tests.conftest import ROOT

LAYERS = ["index", "qa", "eval", "train"]  # each may import only those before it

QA = ROOT / "qa"
WEB = ("fastapi", "starlette", "sse_starlette", "uvicorn", "qa.http")
# what every layer of qa shares, below the read pipeline
SHARED = ("qa.errors", "qa.settings", "qa.shipped")
ENTRY_POINTS = ("cli.py", "__main__.py")  # above every layer: they start the service
MAX_MODULES = 20


def imported_modules(path) -> set[str]:
    """Every module ``path`` imports, by its full dotted name; ``from a import b`` names both
    a and a.b (b may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import"
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def imported_packages(path) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path)}


def within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def relative(path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("layer", LAYERS)
def test_no_import_from_a_higher_layer(layer):
    higher = set(LAYERS[LAYERS.index(layer) + 1 :])
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & higher)
        for path in (ROOT / layer).rglob("*.py")
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def test_the_read_pipeline_imports_no_web_framework_and_nothing_of_qa_above_it():
    wrong = {}
    for path in (QA / "read").rglob("*.py"):
        names = imported_modules(path)
        above = {n for n in names if n.startswith("qa.") and not within(n, ("qa.read", *SHARED))}
        if found := sorted({n for n in names if within(n, WEB)} | above):
            wrong[relative(path)] = found
    assert wrong == {}


def test_the_engine_does_not_import_the_http_surface():
    engine = [p for p in QA.glob("*.py") if p.name not in ENTRY_POINTS]
    assert {p.name for p in engine} >= {"engine.py", "stores.py", "settings.py"}
    wrong = {}
    for path in engine:
        if found := sorted(n for n in imported_modules(path) if within(n, WEB)):
            wrong[relative(path)] = found
    assert wrong == {}


def test_what_every_layer_shares_imports_no_layer_of_qa():
    wrong = {}
    for name in SHARED:
        path = ROOT / (name.replace(".", "/") + ".py")
        names = imported_modules(path)
        above = {n for n in names if n.startswith("qa.") and not within(n, SHARED)}
        if above:
            wrong[relative(path)] = sorted(above)
    assert wrong == {}


def test_no_folder_of_qa_holds_more_than_20_modules():
    folders = [QA, *(p for p in QA.rglob("*") if p.is_dir() and p.name != "__pycache__")]
    sizes = {relative(f): len(list(f.glob("*.py"))) for f in folders}
    assert {f: n for f, n in sizes.items() if n > MAX_MODULES} == {}
