"""SQL text that pgany writes itself: identifiers quoted once, the same way everywhere.

Values never go into SQL text (they travel as bound parameters); only names
that PostgreSQL cannot take as parameters (channels, savepoints, tables and
columns of a COPY) are quoted here.
"""

from __future__ import annotations

from pgany.errors import InterfaceError

__all__ = ["quote_ident"]


def quote_ident(name: str) -> str:
    """Quote *name* as an SQL identifier (``a"b`` -> ``"a""b"``)."""
    if "\0" in name:
        raise InterfaceError("identifiers cannot contain NUL characters")
    return '"' + name.replace('"', '""') + '"'
