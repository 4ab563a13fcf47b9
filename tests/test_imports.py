"""pgany's modules import alone, form no import cycle, and keep to their own underscore names.

Three checks over every module under ``pgany/`` (issue 14):

- Each module imports alone: with no other pgany module loaded (they are
  unloaded between two imports), and with ``pgany/__init__.py`` kept from
  running first (it imports nearly everything, in its own order, which
  would hide a module that works only after another one).
- No import cycle. The graph is read from the source: every import
  statement at any depth (under ``TYPE_CHECKING``, inside functions), with
  relative imports resolved, ``from pgany import x`` naming the submodule
  ``x`` when there is one, and importing ``pgany.a.b`` also importing the
  package ``pgany.a``. A failure prints a cycle, each step with the line of
  its import.
- No module uses another's underscore names: no ``from pgany.x import _name``
  (a private module is fine, a private name in it is not), and no
  ``obj._name`` (or ``getattr(obj, "_name")``) on anything but ``self`` or
  ``cls``, unless the module defines ``_name`` itself (an attribute it sets
  on ``self``, a method, a slot, a field): that is the same class reaching
  into another instance of itself. Standard-library protocols spelled with
  an underscore (``_replace``, ``_asdict``, ...) are allowed. The few reads
  of trio's and anyio's internals that remain are listed in
  :data:`ALLOWED_PRIVATE`, each with its reason.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

import pgany

PACKAGE_DIR = Path(pgany.__file__).resolve().parent

# Why a module's check is expected to fail for now (strictly: once it
# passes, its entry must go).
DRIVER_SEAM = "issue 14: driver and protocol seam in progress"
#: Modules still in an import cycle.
IN_CYCLE_FOR_NOW: dict[str, str] = {}
#: Modules still using another module's underscore names.
PRIVATE_FOR_NOW = {
    # (the driver reads the core's pipeline, the core its buffer's internals)
    "pgany._driver": DRIVER_SEAM,
    "pgany.protocol.connection": DRIVER_SEAM,
}

#: Underscore names of other libraries that pgany still reads, (module, name) ->
#: (how many places may use it, why).
ALLOWED_PRIVATE: dict[tuple[str, str], tuple[int, str]] = {
    ("pgany._waiter", "_cancel_status"): (
        1,
        "trio's record of whether the task is cancelled, read per row of a row stream"
        " (through trio's run context, as current_task() does); trio's public answer,"
        " current_effective_deadline() == -inf, costs ten times more",
    ),
    ("pgany._waiter", "_cancel_called"): (
        1,
        "anyio's asyncio cancel scopes, walked before every request is sent: the public"
        " cancel_called property makes the check about three times slower",
    ),
    ("pgany._waiter", "_shield"): (
        1,
        "as _cancel_called: the public shield property makes the check slower",
    ),
    ("pgany._waiter", "_parent_scope"): (
        1,
        "as _cancel_called: anyio offers no public parent of a cancel scope",
    ),
    ("pgany._waiter", "_current_tasks"): (
        1,
        "asyncio's table of running tasks, where Python 3.11's current_task() is a Python"
        " function around it (0.1 us of a 0.2 us check); used only if it names the task",
    ),
}

#: Names that start with "_" but are public protocols of the standard library.
STDLIB_UNDERSCORE = frozenset(
    {
        "_replace",
        "_asdict",
        "_fields",
        "_make",
        "_field_defaults",
        "_exit",
        "_getframe",
        "_current_frames",
        "_missing_",
        "_value_",
        "_name_",
        "_generate_next_value_",
        "_member_map_",
    }
)


def find_modules(package_dir: Path) -> dict[str, Path]:
    """Every module under *package_dir*, by dotted name (a package by its ``__init__.py``)."""
    found: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = find_modules(PACKAGE_DIR)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


# -- (a) each module imports alone ------------------------------------------------------------

IMPORT_ALONE = """
import importlib, json, os, sys, traceback, types

parent, package, names = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, parent)
failures = {}
for name in names:
    for loaded in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[loaded]
    if name != package:
        # A bare package: importing a submodule must not run __init__.py first.
        stub = types.ModuleType(package)
        stub.__path__ = [os.path.join(parent, package)]
        sys.modules[package] = stub
    try:
        importlib.import_module(name)
    except BaseException:
        failures[name] = traceback.format_exc(limit=-8)
print(json.dumps(failures))
"""


def import_alone(package_dir: Path, names: list[str]) -> dict[str, str]:
    """The modules of *names* that fail to import alone, with their tracebacks.

    Each is imported once no module of the package is loaded any more, in a
    few interpreters side by side (a module at a time in each). Only the
    package's modules are unloaded between two imports: the libraries under
    them stay, as they do not change the order the package's modules load in.
    """
    workers = max(1, min(4, os.cpu_count() or 1))
    chunks = [names[i::workers] for i in range(workers)]

    def run(chunk: list[str]) -> dict[str, str]:
        proc = subprocess.run(
            [
                sys.executable,
                "-W",
                "error",
                "-c",
                IMPORT_ALONE,
                str(package_dir.parent),
                package_dir.name,
                json.dumps(chunk),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        result: dict[str, str] = json.loads(proc.stdout)
        return result

    failures: dict[str, str] = {}
    with ThreadPoolExecutor(workers) as pool:
        for result in pool.map(run, chunks):
            failures.update(result)
    return failures


@pytest.fixture(scope="module")
def import_failures() -> dict[str, str]:
    return import_alone(PACKAGE_DIR, list(MODULES))


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str, import_failures: dict[str, str]) -> None:
    assert module not in import_failures, import_failures[module]


# -- (b) the import graph ----------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One import statement's target inside the package."""

    target: str
    line: int


def imports_of(name: str, path: Path, known: set[str]) -> tuple[list[Import], list[Import]]:
    """``(modules it imports, private names it imports)`` for module *name* at *path*.

    A private name is reported as ``module._name``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules: list[Import] = []
    private: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [Import(a.name, node.lineno) for a in node.names if a.name in known]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                if f"{source}.{alias.name}" in known:
                    modules.append(Import(f"{source}.{alias.name}", node.lineno))
                elif source in known:
                    modules.append(Import(source, node.lineno))
                    if _private(alias.name):
                        private.append(Import(f"{source}.{alias.name}", node.lineno))
    return modules, private


def import_graph(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {module it imports: line of the first such import}.

    Importing ``a.b.c`` runs the package ``a.b`` first: that is an edge too,
    except to the importing module's own packages (they run before it in
    any case). A name taken from one of them is an edge: its ``__init__.py``
    may not have got that far.
    """
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        own = set(_parents(name))
        for imp in imports_of(name, path, known)[0]:
            edges.setdefault(imp.target, imp.line)
            for package in _parents(imp.target):
                if package not in own:
                    edges.setdefault(package, imp.line)
        edges.pop(name, None)
        graph[name] = edges
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[set[str]]:
    """The components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(graph.get(succ, {}))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(component)
    return components


def shortest_cycle(graph: dict[str, dict[str, int]], start: str) -> list[str]:
    """A shortest cycle through *start* (``[start, ..., start]``), or ``[]``."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in graph.get(node, {}):
            if succ == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if succ not in came_from:
                came_from[succ] = node
                queue.append(succ)
    return []


def describe_cycle(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    steps = [f"{a} imports {b} (line {graph[a][b]})" for a, b in pairwise(cycle)]
    return "import cycle:\n  " + "\n  ".join(steps)


GRAPH = import_graph(MODULES)


def _expected_to_fail(reasons: dict[str, str]) -> list[object]:
    """Every module, those in *reasons* marked to fail (strictly) for their reason."""
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reasons[name]))
        if name in reasons
        else name
        for name in MODULES
    ]


@pytest.mark.parametrize("module", _expected_to_fail(IN_CYCLE_FOR_NOW))
def test_module_is_in_no_import_cycle(module: str) -> None:
    cycle = shortest_cycle(GRAPH, module)
    assert not cycle, describe_cycle(GRAPH, cycle)


def test_the_known_cycle_is_the_only_one() -> None:
    # (while the per-module checks of the seam's modules are expected to fail,
    # this keeps any other module from joining their cycle)
    for component in strongly_connected(GRAPH):
        assert component <= IN_CYCLE_FOR_NOW.keys(), describe_cycle(
            GRAPH, shortest_cycle(GRAPH, min(component - IN_CYCLE_FOR_NOW.keys()))
        )


# -- (c) underscore names ----------------------------------------------------------------------


def own_private_names(tree: ast.AST) -> set[str]:
    """The underscore names a module defines itself: attributes set on ``self``/``cls``,
    functions and methods, ``__slots__`` entries, annotated names (dataclass fields)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                names.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
        ):
            for elt in getattr(node.value, "elts", []):
                if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                    names.add(elt.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


@dataclass(frozen=True)
class PrivateUse:
    module: str
    name: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}, line {self.line}: {self.what}"


def private_uses(name: str, path: Path, known: set[str]) -> list[PrivateUse]:
    """Where module *name* uses an underscore name it does not define itself."""
    uses = [
        PrivateUse(name, imp.target.rpartition(".")[2], imp.line, f"imports {imp.target}")
        for imp in imports_of(name, path, known)[1]
    ]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    own = own_private_names(tree)

    def foreign(attr: str, base: ast.expr) -> bool:
        if not _private(attr) or attr in STDLIB_UNDERSCORE or attr in own:
            return False
        return not (isinstance(base, ast.Name) and base.id in ("self", "cls", "mcs"))

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and foreign(node.attr, node.value):
            what = f".{node.attr} on {ast.unparse(node.value)[:40]}"
            uses.append(PrivateUse(name, node.attr, node.lineno, what))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and foreign(node.args[1].value, node.args[0])
        ):
            uses.append(PrivateUse(name, node.args[1].value, node.lineno, ast.unparse(node)[:60]))
    return sorted(uses, key=lambda use: use.line)


PRIVATE_USES = {
    name: private_uses(name, path, set(MODULES)) for name, path in sorted(MODULES.items())
}


@pytest.mark.parametrize("module", _expected_to_fail(PRIVATE_FOR_NOW))
def test_module_uses_no_underscore_name_of_another(module: str) -> None:
    allowed = {name: count for (mod, name), (count, _) in ALLOWED_PRIVATE.items() if mod == module}
    seen: Counter[str] = Counter()
    beyond: list[str] = []
    for use in PRIVATE_USES[module]:
        seen[use.name] += 1
        if seen[use.name] > allowed.get(use.name, 0):
            beyond.append(str(use))
    assert not beyond, "underscore names of another module:\n  " + "\n  ".join(beyond)


@pytest.mark.parametrize("entry", ALLOWED_PRIVATE, ids=lambda e: ".".join(e))
def test_every_allowance_is_still_needed(entry: tuple[str, str]) -> None:
    # (so an allowance cannot outlive the code that needed it)
    module, name = entry
    count, _ = ALLOWED_PRIVATE[entry]
    used = sum(use.name == name for use in PRIVATE_USES.get(module, []))
    assert used == count, f"{module} uses {name} {used} times; the allowance says {count}"


# -- the checks check --------------------------------------------------------------------------


def _sample_package(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    root = tmp_path / "pkg"
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return find_modules(root)


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    modules = _sample_package(
        tmp_path,
        {
            "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
            "b.py": "def f():\n    from . import c\n",
            "c.py": "from pkg import sub\n",
            "sub/__init__.py": "",
            "sub/d.py": "from .. import e\n",
            "e.py": "import pkg.sub.d\n",
            "f.py": "from .sub.d import X\n",
            "sub/g.py": "from pkg.sub import NAME\nfrom pkg.sub import d\n",
        },
    )
    graph = import_graph(modules)
    assert graph["pkg.a"] == {"pkg.b": 3}
    assert graph["pkg.b"] == {"pkg.c": 2}
    assert graph["pkg.c"] == {"pkg.sub": 1}
    assert graph["pkg.sub.d"] == {"pkg.e": 1}
    assert graph["pkg.e"] == {"pkg.sub.d": 1, "pkg.sub": 1}  # (the package runs first)
    assert graph["pkg.f"] == {"pkg.sub.d": 1, "pkg.sub": 1}
    assert graph["pkg.sub.g"] == {"pkg.sub": 1, "pkg.sub.d": 2}  # (a name from its package)
    assert strongly_connected(graph) == [{"pkg.sub.d", "pkg.e"}]
    assert shortest_cycle(graph, "pkg.e") == ["pkg.e", "pkg.sub.d", "pkg.e"]
    assert shortest_cycle(graph, "pkg.a") == []
    assert describe_cycle(graph, ["pkg.e", "pkg.sub.d", "pkg.e"]) == (
        "import cycle:\n  pkg.e imports pkg.sub.d (line 1)\n  pkg.sub.d imports pkg.e (line 1)"
    )


def test_the_private_scan_sees_imports_attributes_and_getattr(tmp_path: Path) -> None:
    modules = _sample_package(
        tmp_path,
        {
            "a.py": "_hidden = 1\n",
            "b.py": (
                "from pkg.a import _hidden\n"
                "from . import _c\n"  # a private module: fine
                "class B:\n"
                "    __slots__ = ('_mine',)\n"
                "    def _own(self, other):\n"
                "        return self._x, other._mine, other._own, other._theirs\n"
                "def f(t):\n"
                "    return t._replace(), getattr(t, '_secret', None), getattr(t, '__doc__')\n"
            ),
            "_c.py": "",
        },
    )
    uses = private_uses("pkg.b", modules["pkg.b"], set(modules))
    assert [(u.name, u.line) for u in uses] == [("_hidden", 1), ("_theirs", 6), ("_secret", 8)]


def test_importing_alone_finds_what_works_only_after_another(tmp_path: Path) -> None:
    modules = _sample_package(
        tmp_path,
        {
            "__init__.py": "from pkg import b\n",  # (b first: then a works)
            "a.py": "from pkg.b import B\nA = 1\n",
            "b.py": "B = 2\nfrom pkg.a import A\n",
            "c.py": "from pkg import a\n",
            "d.py": "import pkg.b\n",
        },
    )
    failures = import_alone(tmp_path / "pkg", list(modules))
    assert set(failures) == {"pkg.a", "pkg.c"}
    assert "partially initialized module 'pkg.a'" in failures["pkg.a"]
