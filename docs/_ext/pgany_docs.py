"""Sphinx helpers for pgany's documentation: tables generated from the code.

- ``.. pgany-transitions::`` renders :data:`pgany.protocol.state.TRANSITIONS`
  (the one table of the connection's state machine), so the state diagram
  of the design page cannot drift from the code. No graphviz needed.
- ``.. pgany-environment::`` lists the environment variables
  :meth:`pgany.Config.from_dsn` reads, and the keyword each stands for.
- ``.. pgany-keywords::`` is the table of every connection keyword: the
  keywords and their environment variables come from :mod:`pgany.config`,
  the defaults and meanings from the directive's content, and the build
  fails (a warning, under ``-W``) when the two disagree: a keyword missing
  or unknown, or a default that is not the :class:`pgany.Config` field's.

It also teaches autodoc where the ``#:`` comments of re-exported classes
are: pgany sets ``__module__ = "pgany"`` on its public classes (so reprs
and these pages say ``pgany.Column``, not a private path), which sends
autodoc's source analysis to ``pgany/__init__.py``, where those comments
are not. See :func:`merge_reexported_attr_docs`.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


def merge_reexported_attr_docs(app: Sphinx | None = None) -> None:
    """Copy the source analysis of each re-exported class to its public module.

    For every class defined in a ``pgany.*`` module but whose ``__module__``
    names another module (``pgany``, ``pgany.types``...), the attribute
    comments, annotations and source order found where the class is
    defined are added to the cached analyzer of the public module, which
    is the one autodoc asks.
    """
    import pgany
    import pgany.errors
    import pgany.testing
    import pgany.types  # noqa: F401  (imports every module with public classes)

    done: set[int] = set()
    for modname, module in sorted(sys.modules.items()):
        if not modname.startswith("pgany."):
            continue
        for value in list(vars(module).values()):
            public = getattr(value, "__module__", None)
            if (
                not isinstance(value, type)
                or id(value) in done
                or not isinstance(public, str)
                or public == modname
                or not (public == "pgany" or public.startswith("pgany."))
            ):
                continue
            qualname = value.__qualname__
            try:
                source = ModuleAnalyzer.for_module(modname)
                source.analyze()
                if source.tags.get(qualname, ("",))[0] != "class":
                    continue  # imported into this module, not defined here
                target = ModuleAnalyzer.for_module(public)
                target.analyze()
            except PycodeError:
                continue
            done.add(id(value))

            def ours(name: str, qualname: str = qualname) -> bool:
                return name == qualname or name.startswith(qualname + ".")

            for key, lines in source.attr_docs.items():
                if ours(key[0]):
                    target.attr_docs.setdefault(key, lines)
            for key, annotation in source.annotations.items():
                if ours(key[0]):
                    target.annotations.setdefault(key, annotation)
            for name, order in source.tagorder.items():
                if ours(name):
                    target.tagorder.setdefault(name, order)


def transition_rows() -> list[tuple[str, str, str, bool]]:
    """(from phase, events, to phase, client-side?) for every move of the state machine.

    Events with the same origin and target share one row. For each phase,
    the events that keep it come first, then the moves to other phases;
    phases and kinds come in their declaration order.
    """
    from pgany.protocol.state import CLIENT_KINDS, TRANSITIONS, Kind, Phase

    kinds = list(Kind)
    rows = []
    for src in Phase:
        targets: dict[Phase, list[Kind]] = {}
        for (phase, kind), dst in TRANSITIONS.items():
            if phase is src:
                targets.setdefault(dst, []).append(kind)
        for dst in sorted(targets, key=lambda p: (p is not src, list(Phase).index(p))):
            group = sorted(targets[dst], key=kinds.index)
            # Client actions and server messages go in separate rows.
            for client in (True, False):
                part = [k for k in group if (k in CLIENT_KINDS) is client]
                if part:
                    rows.append((src.name, ", ".join(k.value for k in part), dst.name, client))
    return rows


def _table(widths: list[int], header: list[str], rows: list[list[nodes.Node]]) -> nodes.table:
    table = nodes.table()
    group = nodes.tgroup(cols=len(widths))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    body = nodes.tbody()
    group += body
    for section, cells_list in ((head, [[nodes.paragraph(text=t) for t in header]]), (body, rows)):
        for cells in cells_list:
            row = nodes.row()
            for cell in cells:
                entry = nodes.entry()
                entry += cell
                row += entry
            section += row
    return table


def _literal(text: str) -> nodes.paragraph:
    para = nodes.paragraph()
    para += nodes.literal(text, text)
    return para


class TransitionsDirective(SphinxDirective):
    """Render the state machine's transitions as a table."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from pgany.protocol import state

        # Rebuild the page whenever the table's source changes.
        self.env.note_dependency(state.__file__)
        rows: list[list[nodes.Node]] = []
        previous = None
        for src, events, dst, client in transition_rows():
            rows.append(
                [
                    _literal(src) if src != previous else nodes.paragraph(),
                    nodes.paragraph(text="client" if client else "server"),
                    nodes.paragraph(text=events),
                    _literal(dst),
                ]
            )
            previous = src
        return [self._summary(), _table([16, 8, 52, 16], ["From", "By", "On", "To"], rows)]

    def _summary(self) -> nodes.literal_block:
        """One line per phase: the other phases it can move to."""
        from pgany.protocol.state import TRANSITIONS, Phase

        width = max(len(p.name) for p in Phase)
        lines = []
        for src in Phase:
            targets = {dst for (phase, _), dst in TRANSITIONS.items() if phase is src}
            others = ", ".join(p.name for p in Phase if p in targets and p is not src)
            if not others:
                others = f"{src.name} only" if src in targets else "nothing: no way out"
            lines.append(f"{src.name:<{width}}  ->  {others}")
        text = "\n".join(lines)
        return nodes.literal_block(text, text)


class EnvironmentDirective(SphinxDirective):
    """List the PG* environment variables pgany reads."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from pgany import _keywords, config

        self.env.note_dependency(config.__file__)
        self.env.note_dependency(_keywords.__file__)  # (where config.KEYWORDS lives)
        rows: list[list[nodes.Node]] = [
            [_literal(var), _literal(key)] for key, var in config._ENV.items()
        ]
        return [_table([30, 30], ["Variable", "Keyword"], rows)]


def documented_keywords() -> list[str]:
    """Every keyword a connection may be given: libpq's, in config's order, then pgany's own."""
    from pgany import config

    return [*config.KEYWORDS, *sorted(config._PGANY_KEYS)]


def expected_default(keyword: str) -> str | None:
    """The :class:`pgany.Config` default of *keyword* as the docs spell it (``None``: no plain one).

    Booleans are written as in a connection string (``1``, ``0``).
    """
    from pgany.config import Config

    field = Config.__dataclass_fields__.get(keyword)
    if field is None or field.default is dataclasses.MISSING or field.default is None:
        return None
    value = field.default
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, str)):
        return str(value)
    return None


class KeywordsDirective(SphinxDirective):
    """The table of every connection keyword, checked against :mod:`pgany.config`.

    Content: one entry per keyword, ``keyword: default | meaning`` (inline
    markup allowed; a line that starts with blanks continues the entry
    above). The table adds the keyword's environment variable.
    """

    has_content = True

    def _entries(self) -> list[tuple[str, str, str, int]]:
        entries: list[list[Any]] = []
        for offset, line in enumerate(self.content):
            lineno = self.content_offset + offset + 1
            if not line.strip():
                continue
            if line[:1].isspace():
                if not entries:
                    self._warn("a continuation line before any keyword", lineno)
                    continue
                entries[-1][1] += " " + line.strip()
                continue
            keyword, colon, rest = line.partition(":")
            if not colon:
                self._warn(f"expected 'keyword: default | meaning', got {line!r}", lineno)
                continue
            entries.append([keyword.strip(), rest.strip(), lineno])
        result = []
        for keyword, text, lineno in entries:
            default, bar, meaning = text.partition(" | ")
            if not bar:
                self._warn(f"{keyword}: expected 'default | meaning'", lineno)
            result.append((keyword, default.strip(), meaning.strip(), lineno))
        return result

    def _warn(self, message: str, lineno: int) -> None:
        logger.warning(
            "pgany-keywords: %s", message, location=(self.env.docname, lineno), type="pgany"
        )

    def _inline(self, text: str, lineno: int) -> nodes.paragraph:
        para = nodes.paragraph()
        children, messages = self.state.inline_text(text, lineno)
        para.extend(children)
        para.extend(messages)
        return para

    def run(self) -> list[nodes.Node]:
        from pgany import _keywords, config

        self.env.note_dependency(config.__file__)
        self.env.note_dependency(_keywords.__file__)  # (where config.KEYWORDS lives)
        known = documented_keywords()
        entries = self._entries()
        seen: set[str] = set()
        rows: list[list[nodes.Node]] = []
        for keyword, default, meaning, lineno in entries:
            if keyword not in known:
                self._warn(f"{keyword!r} is not a keyword pgany knows", lineno)
            if keyword in seen:
                self._warn(f"{keyword!r} is listed twice", lineno)
            seen.add(keyword)
            expected = expected_default(keyword)
            if expected is not None and f"``{expected}``" not in default:
                self._warn(
                    f"the default of {keyword} is ``{expected}`` (pgany.Config), not {default!r}",
                    lineno,
                )
            var = config.KEYWORDS.get(keyword)
            rows.append(
                [
                    _literal(keyword),
                    _literal(var) if var else nodes.paragraph(),
                    self._inline(default, lineno),
                    self._inline(meaning, lineno),
                ]
            )
        missing = [k for k in known if k not in seen]
        if missing:
            self._warn(f"no entry for {', '.join(missing)}", self.lineno)
        return [_table([22, 24, 24, 50], ["Keyword", "Variable", "Default", "Meaning"], rows)]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("pgany-transitions", TransitionsDirective)
    app.add_directive("pgany-environment", EnvironmentDirective)
    app.add_directive("pgany-keywords", KeywordsDirective)
    app.connect("builder-inited", merge_reexported_attr_docs)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
