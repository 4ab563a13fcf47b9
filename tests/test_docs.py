"""The documentation: its examples run, it builds with warnings as errors, it covers the API.

Every ``docs/examples/*.py`` defines ``async def main(dsn: str) -> None``; the
pages show them with ``literalinclude``, and here each runs against the test
server on asyncio and on trio.
"""

from __future__ import annotations

import html
import importlib.util
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType

import pytest

import pgany
import pgany.errors
import pgany.types
from pgany.protocol.state import TRANSITIONS

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.py"))
PAGES = sorted(DOCS.glob("*.rst"))


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"pgany_docs_example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep codecs an example registers globally out of the rest of the suite."""
    original = pgany.types.registry
    scratch = original.child()
    for name, module in list(sys.modules.items()):
        if name == "pgany" or name.startswith("pgany."):
            for attr, value in list(vars(module).items()):
                if value is original:
                    monkeypatch.setattr(module, attr, scratch)


@pytest.mark.anyio
@pytest.mark.usefixtures("isolated_registry")
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
async def test_example(path: Path, pg_dsn: str) -> None:
    main: Callable[[str], Awaitable[None]] = _load(path).main
    await main(pg_dsn)


def _literalincludes() -> set[str]:
    found = set()
    for page in PAGES:
        found.update(re.findall(r"^\.\. literalinclude:: (\S+)", page.read_text(), re.M))
    return found


def test_every_example_is_shown() -> None:
    assert EXAMPLES
    shown = _literalincludes()
    for path in EXAMPLES:
        assert f"examples/{path.name}" in shown, f"no page includes docs/examples/{path.name}"
    for target in shown:
        assert (DOCS / target).is_file(), f"literalinclude of a missing file: {target}"


def _documented_names() -> set[str]:
    text = (DOCS / "api.rst").read_text()
    return set(re.findall(r"^\.\. (?:auto\w+|py:\w+):: (?:pgany\.)?(\w+)", text, re.M))


def test_api_page_lists_all_public_names() -> None:
    missing = set(pgany.__all__) - _documented_names()
    assert not missing, f"docs/api.rst does not document: {sorted(missing)}"


def test_errors_page_lists_every_error_field() -> None:
    text = (DOCS / "errors.rst").read_text()
    for attr in pgany.errors.FIELD_NAMES.values():
        assert f"``{attr}``" in text, f"docs/errors.rst does not mention DatabaseError.{attr}"


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "html"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"),
            *("-d", str(tmp_path / "doctrees"), str(DOCS), str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stdout}\n{proc.stderr}"
    api = (out / "api.html").read_text()
    missing = [name for name in pgany.__all__ if f'id="pgany.{name}"' not in api]
    assert not missing, f"the built API page has no entry for {missing}"
    # The state table is generated from the transition table at build time.
    design = (out / "design.html").read_text()
    for (phase, kind), target in TRANSITIONS.items():
        for text in (phase.name, kind.value, target.name):
            assert html.escape(text, quote=False) in design, f"{text} is not on the design page"
