"""``pgany/protocol/`` is sans-I/O: it never imports anyio, trio, asyncio, socket or ssl.

Checked twice: statically, over every import statement in the package (at any
depth, inside functions too), and dynamically, by importing the package in a
fresh interpreter where ``pgany`` is a bare namespace, so that
``pgany/__init__.py`` (which imports the anyio client) does not run.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pgany.protocol

FORBIDDEN = frozenset({"anyio", "trio", "asyncio", "socket", "ssl", "selectors", "sniffio"})

PROTOCOL_DIR = Path(pgany.protocol.__file__).resolve().parent
PACKAGE_DIR = PROTOCOL_DIR.parent
MODULES = sorted(PROTOCOL_DIR.glob("*.py"))


def imported_names(path: Path) -> set[str]:
    """Every module named by an import in *path*, or by ``import_module``/``__import__``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if callee in ("import_module", "__import__") and node.args:
                arg = node.args[0]
                names.add(str(arg.value) if isinstance(arg, ast.Constant) else "<dynamic>")
    return names


def test_the_package_has_modules() -> None:
    assert {p.stem for p in MODULES} >= {
        "__init__",
        "buffer",
        "messages",
        "frontend",
        "state",
        "auth",
        "pipeline",
        "connection",
    }


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_io_imports_anywhere_in_the_source(path: Path) -> None:
    names = imported_names(path)
    assert "<dynamic>" not in names
    bad = {n for n in names if n.split(".")[0] in FORBIDDEN}
    assert not bad, f"{path.name} imports {sorted(bad)}"
    # Inside pgany, only the errors and the protocol package itself.
    inside = {n for n in names if n.split(".")[0] == "pgany"}
    for name in inside:
        assert name == "pgany.errors" or name.startswith(("pgany.errors.", "pgany.protocol")), (
            f"{path.name} imports {name}"
        )


def test_the_ast_scan_sees_nested_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        textwrap.dedent(
            """
            def f():
                import ssl
                class C:
                    def g(self):
                        from anyio import abc
                return importlib.import_module("trio")
            """
        )
    )
    assert {"ssl", "anyio", "anyio.abc", "trio"} <= imported_names(sample)


SCRIPT = """
import importlib, json, pkgutil, sys, types

forbidden = set(json.loads(sys.argv[1]))
already = sorted(forbidden & set(sys.modules))

stub = types.ModuleType("pgany")
stub.__path__ = [sys.argv[2]]
sys.modules["pgany"] = stub

import pgany.protocol.connection
import pgany.protocol
loaded = ["pgany.protocol"]
for info in pkgutil.iter_modules(pgany.protocol.__path__, "pgany.protocol."):
    importlib.import_module(info.name)
    loaded.append(info.name)

# A whole exchange through the core must not import them either.
from pgany.protocol import Connection, NEED_DATA
from pgany.protocol.messages import AuthenticationMD5Password, AuthenticationOk, ReadyForQuery
from pgany.protocol.messages import encode_backend
conn = Connection({"user": "u"}, password="p")
conn.data_to_send()
conn.receive_data(encode_backend(AuthenticationMD5Password(b"salt")))
assert conn.next_event() is NEED_DATA
conn.receive_data(encode_backend(AuthenticationOk()) + encode_backend(ReadyForQuery("I")))
conn.next_event()

assert sys.modules["pgany"] is stub, "pgany/__init__.py ran"
print(json.dumps({
    "already": already,
    "after": sorted(forbidden & set(sys.modules)),
    "loaded": loaded,
    "pgany": sorted(n for n in sys.modules if n.startswith("pgany")),
}))
"""


def test_importing_the_core_imports_no_io() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(sorted(FORBIDDEN)), str(PACKAGE_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["already"] == []  # the check would be meaningless otherwise
    assert report["after"] == []
    assert {f"pgany.protocol.{p.stem}" for p in MODULES if p.stem != "__init__"} <= set(
        report["loaded"]
    )
    # Nothing of the I/O layer came along: no client, no driver.
    outside = [
        name
        for name in report["pgany"]
        if name != "pgany" and not name.startswith(("pgany.protocol", "pgany.errors"))
    ]
    assert outside == []


# -- the API and the driver: anyio only, backends in three modules -------------------------

#: The only modules that may speak to asyncio or trio themselves: the two socket
#: streams, and the request waiter / cancel check (see their docstrings).
BACKEND_MODULES = frozenset({"_aio.py", "_trio.py", "_waiter.py"})
BACKENDS = ("asyncio", "trio", "anyio._backends")


def _backend_imports(path: Path) -> set[str]:
    return {
        name
        for name in imported_names(path)
        if any(name == b or name.startswith(b + ".") for b in BACKENDS)
    }


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE_DIR.rglob("*.py") if p.name not in BACKEND_MODULES),
    ids=lambda p: str(p.relative_to(PACKAGE_DIR)),
)
def test_only_the_backend_modules_import_asyncio_or_trio(path: Path) -> None:
    assert _backend_imports(path) == set(), (
        f"{path.relative_to(PACKAGE_DIR)} imports a backend: use anyio (or the backend modules)"
    )


def test_the_backend_modules_are_where_they_are_said_to_be() -> None:
    # (so the allowance above cannot outlive a module's removal or renaming)
    for name in BACKEND_MODULES:
        assert _backend_imports(PACKAGE_DIR / name), name


# -- the API modules: one road, through the session ------------------------------------------

#: The modules users' calls land in. They run requests only through
#: ``pgany._session.Session``: no driver, no protocol connection, no waiter.
API_MODULES = (
    "client.py",
    "_queries.py",
    "_transaction.py",
    "_stream.py",
    "copy.py",
    "_typeinfo.py",
)
#: What only the session (and the connecting code) may use.
BEHIND_THE_SESSION = ("pgany._driver", "pgany.protocol.connection", "pgany._waiter.Waiter")
#: Attributes that are the driver's, the protocol core's or a waiter's.
DRIVER_ATTRIBUTES = frozenset({"_driver", "_proto", "waiter", "send", "send_raw", "proto"})


def _attribute_reads(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


@pytest.mark.parametrize("name", API_MODULES)
def test_api_modules_run_requests_only_through_the_session(name: str) -> None:
    path = PACKAGE_DIR / name
    imports = imported_names(path)
    reached = {
        n for n in imports if any(n == b or n.startswith(b + ".") for b in BEHIND_THE_SESSION)
    }
    assert reached == set(), f"{name} imports {sorted(reached)}: go through the session"
    touched = _attribute_reads(path) & DRIVER_ATTRIBUTES
    assert touched == set(), f"{name} touches {sorted(touched)}: go through the session"


def test_the_seam_check_sees_a_reach_into_the_driver(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f(c):\n    c._session._driver.send(b'', None)\n    c.req.waiter.set()\n")
    assert {"_driver", "send", "waiter"} <= _attribute_reads(sample) & DRIVER_ATTRIBUTES
