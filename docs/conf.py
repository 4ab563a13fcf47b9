"""Sphinx configuration for pgany's documentation.

Build with warnings as errors (``nox -s docs``, and ``tests/test_docs.py``)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The build needs no network.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # pgany itself, when it is not installed

import pgany  # noqa: E402

project = "pgany"
author = "The pgany developers"
copyright = "The pgany developers"
release = pgany.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "pgany_docs",  # docs/_ext/pgany_docs.py: the state table of the design page
]

# Intersphinx (links into the Python, anyio and trio docs) is opt-in:
# PGANY_DOCS_INTERSPHINX=1 turns it on. Off by default because CI builds
# with no network, and a build that cannot fetch an inventory logs a
# warning that -W turns into a failure (Sphinx gives that warning no type,
# so suppress_warnings cannot silence it). Without intersphinx, references
# to Python's objects render as plain code; nothing else changes.
if os.environ.get("PGANY_DOCS_INTERSPHINX", "") not in ("", "0"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "anyio": ("https://anyio.readthedocs.io/en/stable", None),
        "trio": ("https://trio.readthedocs.io/en/stable", None),
    }
    intersphinx_timeout = 10

exclude_patterns = ["_build", "examples", "_ext"]
templates_path: list[str] = []
default_role = "py:obj"
nitpicky = False

# -- autodoc ----------------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True

# -- HTML ---------------------------------------------------------------------------

html_theme = "furo"
html_title = f"pgany {release}"
html_static_path: list[str] = []
pygments_style = "sphinx"
pygments_dark_style = "monokai"
