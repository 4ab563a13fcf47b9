#!/usr/bin/env python3
"""Regenerate the per-SQLSTATE exception classes of ``pgany/errors.py``.

Reads PostgreSQL's ``errcodes.txt`` and rewrites, in place, the lines between
the ``# BEGIN GENERATED`` and ``# END GENERATED`` markers of ``pgany/errors.py``.
Running it twice on the same input gives the same file.

Usage::

    python tools/gen_errors.py [ERRCODES_TXT] [--target FILE] [--check]

Naming follows psycopg 3's ``psycopg.errors``: the CamelCase of the spec name
(``unique_violation`` -> ``UniqueViolation``), or of the macro name without
``ERRCODE_`` when the spec name is absent. Class 00 (successful completion) is
skipped. Each SQLSTATE class (``23000``) becomes a subclass of ``DatabaseError``
and each code of that class (``23505``) a subclass of the class's class.

A spec name used by more than one SQLSTATE is resolved by ``RENAMES`` (the
names psycopg uses), or, for the warning class 01, by appending ``Warning``.
Any clash left over -- among generated names, or with a name defined elsewhere
in the module -- stops the generator with an error, as do lines it does not
understand.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ERRCODES = Path("/usr/share/postgresql/15/errcodes.txt")
DEFAULT_TARGET = Path(__file__).resolve().parent.parent / "pgany" / "errors.py"

BEGIN_MARKER = "# BEGIN GENERATED"
END_MARKER = "# END GENERATED"

#: SQLSTATE classes that get no exception class (success is never raised).
SKIPPED_CLASSES = frozenset({"00"})

#: The warning class: its names get ``Warning`` appended when they clash.
WARNING_CLASS = "01"

#: Explicit names for SQLSTATEs whose spec name is shared with another code.
#: Same choices as psycopg 3.
RENAMES = {
    "38002": "ModifyingSqlDataNotPermittedExt",
    "38003": "ProhibitedSqlStatementAttemptedExt",
    "38004": "ReadingSqlDataNotPermittedExt",
    "39004": "NullValueNotAllowedExt",
}

_SECTION_RE = re.compile(r"Section:\s+Class\s+([0-9A-Z]{2})\s+-\s+(\S.*)")
_CODE_RE = re.compile(r"([0-9A-Z]{5})\s+([EWS])\s+(ERRCODE_[A-Z0-9_]+)(?:\s+([a-z0-9_]+))?")


class GenerationError(Exception):
    """errcodes.txt or the target file is not what the generator expects."""


@dataclass(frozen=True)
class Section:
    code: str  # two characters, e.g. "23"
    title: str  # e.g. "Integrity Constraint Violation"


@dataclass(frozen=True)
class CodeLine:
    sqlstate: str
    kind: str  # E, W or S
    macro: str
    spec: str | None
    lineno: int


@dataclass(frozen=True)
class ErrorClass:
    sqlstate: str
    name: str
    base: str
    label: str  # spec name, or the macro when there is none
    section: Section


def parse(text: str) -> tuple[list[Section], list[CodeLine]]:
    """Parse errcodes.txt into its sections and its code lines, in file order."""
    sections: list[Section] = []
    codes: list[CodeLine] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("Section:"):
            m = _SECTION_RE.fullmatch(line)
            if m is None:
                raise GenerationError(f"line {lineno}: unexpected section line: {raw!r}")
            section = Section(m.group(1), m.group(2).strip())
            if any(s.code == section.code for s in sections):
                raise GenerationError(f"line {lineno}: class {section.code} appears twice")
            sections.append(section)
            continue
        m = _CODE_RE.fullmatch(line)
        if m is None:
            raise GenerationError(f"line {lineno}: unexpected line: {raw!r}")
        sqlstate, kind, macro, spec = m.groups()
        # No check that the code belongs to the current section: the alias
        # macros (see _pick_lines) are listed under class 42.
        codes.append(CodeLine(sqlstate, kind, macro, spec, lineno))
    if not sections:
        raise GenerationError("no 'Section: Class XX - ...' line found")
    return sections, codes


def camel(label: str) -> str:
    """``unique_violation`` -> ``UniqueViolation`` (psycopg's rule)."""
    return label.upper().title().replace("_", "")


def _title_name(title: str) -> str:
    """Class name from a section title, for a class without an ``XX000`` line."""
    title = re.sub(r"\(.*?\)", " ", title)
    return "".join(word.capitalize() for word in re.findall(r"[A-Za-z0-9]+", title))


def _pick_lines(codes: list[CodeLine]) -> dict[str, CodeLine]:
    """One line per SQLSTATE.

    errcodes.txt lists a few codes twice: once with a spec name and once more
    without, as an alias macro (``ERRCODE_UNDEFINED_DATABASE`` = 3D000). The
    alias is dropped. Two spec names for one code, or two bare macros and no
    spec name, are ambiguous and rejected.
    """
    by_sqlstate: dict[str, list[CodeLine]] = defaultdict(list)
    for code in codes:
        by_sqlstate[code.sqlstate].append(code)
    chosen: dict[str, CodeLine] = {}
    for sqlstate, lines in by_sqlstate.items():
        named = [c for c in lines if c.spec]
        candidates = named or lines
        if len(candidates) > 1:
            where = ", ".join(f"line {c.lineno}" for c in candidates)
            raise GenerationError(f"SQLSTATE {sqlstate} is defined more than once ({where})")
        chosen[sqlstate] = candidates[0]
    return chosen


def build(
    sections: list[Section], codes: list[CodeLine], reserved: frozenset[str] = frozenset()
) -> list[ErrorClass]:
    """Decide the class of every SQLSTATE; *reserved* names may not be generated."""
    lines = _pick_lines(codes)
    by_class: dict[str, list[CodeLine]] = defaultdict(list)
    for line in lines.values():
        by_class[line.sqlstate[:2]].append(line)
    orphans = sorted(set(by_class) - {s.code for s in sections})
    if orphans:
        raise GenerationError(f"codes of classes without a Section line: {', '.join(orphans)}")

    # (sqlstate, proposed name, base sqlstate or None, label, section), class first.
    drafts: list[tuple[str, str, str | None, str, Section]] = []
    for section in sections:
        if section.code in SKIPPED_CLASSES:
            continue
        class_state = section.code + "000"
        members = sorted(by_class.get(section.code, []), key=lambda c: c.sqlstate)
        head = lines.get(class_state)
        if head is not None:
            label = head.spec or head.macro
            name = camel(head.spec or head.macro.removeprefix("ERRCODE_"))
        else:
            label = section.title
            name = _title_name(section.title)
        drafts.append((class_state, name, None, label, section))
        for line in members:
            if line.sqlstate == class_state:
                continue
            name = camel(line.spec or line.macro.removeprefix("ERRCODE_"))
            drafts.append((line.sqlstate, name, class_state, line.spec or line.macro, section))

    # Resolve clashes: explicit renames first, then the Warning suffix for class 01.
    users: dict[str, int] = defaultdict(int)
    for _, name, _, _, _ in drafts:
        users[name] += 1
    names: dict[str, str] = {}
    for sqlstate, name, _, _, _ in drafts:
        if sqlstate in RENAMES:
            name = RENAMES[sqlstate]
        elif (users[name] > 1 or name in reserved) and sqlstate[:2] == WARNING_CLASS:
            name += "Warning"
        names[sqlstate] = name

    owners: dict[str, list[str]] = defaultdict(list)
    for sqlstate, name in names.items():
        owners[name].append(sqlstate)
    problems = [
        f"{name}: SQLSTATE {', '.join(states)}"
        for name, states in owners.items()
        if len(states) > 1
    ]
    problems += [
        f"{name}: SQLSTATE {states[0]} clashes with a name defined in the module"
        for name, states in owners.items()
        if name in reserved
    ]
    problems += [
        f"{name}: SQLSTATE {states[0]} is not a valid identifier"
        for name, states in owners.items()
        if not name.isidentifier()
    ]
    if problems:
        raise GenerationError(
            "unresolved class name clashes (add to RENAMES in tools/gen_errors.py):\n  "
            + "\n  ".join(sorted(problems))
        )

    return [
        ErrorClass(sqlstate, names[sqlstate], names[base] if base else "DatabaseError", label, sec)
        for sqlstate, _, base, label, sec in drafts
    ]


def render_block(classes: list[ErrorClass]) -> list[str]:
    """The lines between the markers (ruff-format stable)."""
    out = [
        "#",
        "# One class per SQLSTATE class and code of PostgreSQL's errcodes.txt;",
        "# refresh with ``python tools/gen_errors.py [path/to/errcodes.txt]``.",
    ]
    current: Section | None = None
    for cls in classes:
        if cls.section != current:
            current = cls.section
            out += ["", "", f"# Class {current.code} - {current.title}"]
        if cls.base == "DatabaseError":
            section = f"class {cls.section.code} - {cls.section.title}"
            doc = f"SQLSTATE {cls.sqlstate} ({cls.label}): {section}."
        else:
            doc = f"SQLSTATE {cls.sqlstate} ({cls.label})."
        out += [
            "",
            "",
            "@_register",
            f"class {cls.name}({cls.base}):",
            f'    """{doc}"""',
            "",
            '    __module__ = "pgany.errors"',
            f'    sqlstate_code = "{cls.sqlstate}"',
        ]
    out += ["", "", "__all__ += ["]
    out += [f'    "{name}",' for name in sorted(cls.name for cls in classes)]
    out += ["]"]
    return out


def _split(text: str) -> tuple[list[str], list[str], list[str]]:
    lines = text.splitlines()
    begins = [i for i, line in enumerate(lines) if line.startswith(BEGIN_MARKER)]
    ends = [i for i, line in enumerate(lines) if line.startswith(END_MARKER)]
    if len(begins) != 1 or len(ends) != 1 or begins[0] > ends[0]:
        raise GenerationError(
            f"the target needs exactly one {BEGIN_MARKER!r} line followed by one {END_MARKER!r}"
        )
    return lines[: begins[0] + 1], lines[begins[0] + 1 : ends[0]], lines[ends[0] :]


def defined_names(source: str) -> frozenset[str]:
    """Top-level names the module defines itself (outside the generated block)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(names)


def render(errcodes_text: str, module_text: str) -> str:
    """The new text of the module: *module_text* with its generated block rebuilt."""
    head, _, tail = _split(module_text)
    reserved = defined_names("\n".join(head + tail))
    sections, codes = parse(errcodes_text)
    classes = build(sections, codes, reserved)
    return "\n".join([*head, *render_block(classes), *tail]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "errcodes",
        nargs="?",
        type=Path,
        default=DEFAULT_ERRCODES,
        help=f"PostgreSQL's errcodes.txt (default: {DEFAULT_ERRCODES})",
    )
    parser.add_argument(
        "--target",
        type=Path,
        default=DEFAULT_TARGET,
        help="module to update in place (default: pgany/errors.py)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the target is out of date",
    )
    args = parser.parse_args(argv)

    old = args.target.read_text(encoding="utf-8")
    try:
        new = render(args.errcodes.read_text(encoding="ascii"), old)
    except GenerationError as exc:
        print(f"gen_errors: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if new != old:
            print(f"gen_errors: {args.target} is out of date", file=sys.stderr)
            return 1
        return 0
    if new != old:
        args.target.write_text(new, encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
