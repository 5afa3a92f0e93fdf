"""The layout rules of ``docs/ARCHITECTURE.md``, checked on the source itself.

A newcomer follows one message through packages that only import downwards: these tests
fail, naming the modules, when a change adds a cycle between ``assistant``'s packages,
makes the core import Streamlit, grows a module past what one reader holds, or adds a
module without its mirrored test file (``assistant/<package>/<module>.py`` is tested in
``tests/<package>/test_<module>.py``).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "assistant"
MAX_MODULE_LINES = 500  # a module past it is split along its own seams


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Absolute module names a module imports when it runs (``if TYPE_CHECKING:`` blocks left out)."""
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(child) for child in ast.walk(node))
    names: list[str] = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def _package_of(path: Path) -> str:
    relative = path.relative_to(CORE)
    return relative.parts[0].removesuffix(".py")


def package_graph() -> dict[str, set[str]]:
    """``assistant``'s top-level packages (and modules), each with the others it imports at run time."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in CORE.rglob("*.py"):
        source = _package_of(path)
        graph[source]
        for name in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            parts = name.split(".")
            if parts[0] == "assistant" and len(parts) > 1 and parts[1] != source:
                graph[source].add(parts[1])
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_packages() -> None:
    assert cycles(package_graph()) == []


def test_cycle_finder_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_never_imports_streamlit() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in CORE.rglob("*.py")
        if any(n.split(".")[0] == "streamlit" for n in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))))
    ]
    assert offenders == []


def test_no_core_module_past_what_one_reader_holds() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in CORE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


MAX_FUNCTION_LINES = 80


def _long_functions_without_a_reason() -> dict[str, int]:
    """Functions past MAX_FUNCTION_LINES whose comment just above does not say why ("Long on purpose")."""
    found: dict[str, int] = {}
    for path in CORE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            above = " ".join(lines[max(0, first - 4) : first - 1]).lower()
            if length > MAX_FUNCTION_LINES and "long on purpose" not in above:
                found[f"{path.relative_to(ROOT)}:{node.name}"] = length
    return found


def test_long_functions_say_why() -> None:
    assert _long_functions_without_a_reason() == {}


def test_pages_use_no_parameter_streamlit_has_removed() -> None:
    """``use_container_width`` was to go after 2025-12-31: every run that passed it logged a
    deprecation notice (a page of them in the server's log) and a Streamlit upgrade breaks it."""
    removed = {"use_container_width"}
    files = [
        ROOT / "streamlit_app.py",
        *sorted((ROOT / "app_pages").rglob("*.py")),
        *sorted((ROOT / "ui").rglob("*.py")),
    ]
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in files
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.keyword) and node.arg in removed
    ]
    assert offenders == []


TESTS = ROOT / "tests"


def mirrored_test(module: Path, core: Path = CORE, tests: Path = TESTS) -> Path:
    """``tests/<package>/test_<module>.py`` for ``assistant/<package>/<module>.py``."""
    relative = module.relative_to(core)
    return tests / relative.parent / f"test_{relative.name}"


def modules_without_their_test(
    core: Path = CORE, tests: Path = TESTS, exempt: frozenset[str] | set[str] = frozenset()
) -> list[str]:
    """The modules of ``core`` (``__init__.py`` aside, ``exempt`` packages left out) with no mirrored test file."""
    missing = []
    for module in sorted(core.rglob("*.py")):
        package = module.relative_to(core).parent.as_posix()
        if module.name == "__init__.py" or any(package == p or package.startswith(p + "/") for p in exempt):
            continue
        if not mirrored_test(module, core, tests).is_file():
            missing.append(
                f"{module.relative_to(core.parent)} -> {mirrored_test(module, core, tests).relative_to(tests.parent)}"
            )
    return missing


def test_every_module_has_its_mirrored_test_file() -> None:
    assert modules_without_their_test() == []


def test_a_module_without_its_test_file_is_named(tmp_path: Path) -> None:
    core, tests = tmp_path / "assistant", tmp_path / "tests"
    for path in (
        "assistant/__init__.py",
        "assistant/top.py",
        "assistant/pkg/__init__.py",
        "assistant/pkg/mod.py",
        "assistant/later/sub/mod.py",
        "tests/test_top.py",
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).touch()
    assert modules_without_their_test(core, tests, exempt={"later"}) == [
        "assistant/pkg/mod.py -> tests/pkg/test_mod.py"
    ]
    (tests / "pkg").mkdir()
    (tests / "pkg" / "test_mod.py").touch()
    assert modules_without_their_test(core, tests, exempt={"later"}) == []
    assert modules_without_their_test(core, tests, exempt=set()) == [
        "assistant/later/sub/mod.py -> tests/later/sub/test_mod.py"
    ]


def test_test_files_have_unique_names_but_mirrors_of_same_named_modules() -> None:
    """One test file per basename, so a failure's file name says what failed; the mirrors of two
    modules named alike (``chat/compare.py``, ``views/compare.py``; ``ui/`` is mirrored in
    ``tests/ui/`` too) are the exception."""
    mirrors = {mirrored_test(module) for module in CORE.rglob("*.py")}
    mirrors |= {mirrored_test(module, ROOT / "ui", TESTS / "ui") for module in (ROOT / "ui").rglob("*.py")}
    by_name: dict[str, list[Path]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        by_name[path.name].append(path)
    shared = {
        name: sorted(str(p.relative_to(ROOT)) for p in paths)
        for name, paths in by_name.items()
        if len(paths) > 1 and not all(p in mirrors for p in paths)
    }
    assert shared == {}


def test_every_test_folder_is_a_package() -> None:
    """Without ``__init__.py`` two test files of one name in two folders collide on import."""
    folders = {path.parent for path in TESTS.rglob("*.py")} - {TESTS}
    assert sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").is_file()) == []
