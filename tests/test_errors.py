"""pgany.errors: the exception tree, SQLSTATE lookup and the generated classes."""

from __future__ import annotations

import ast
import builtins
import importlib.util
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pgany.errors as errors
from pgany.errors import (
    ConnectError,
    ConnectionClosed,
    DatabaseError,
    DecodeError,
    EncodeError,
    Error,
    FeatureNotSupported,
    InFailedSqlTransaction,
    IntegrityConstraintViolation,
    InterfaceError,
    InvalidPassword,
    ProtocolError,
    QueryCanceled,
    RowCountError,
    UniqueViolation,
    lookup,
)

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "tools" / "gen_errors.py"
ERRORS_PY = ROOT / "pgany" / "errors.py"
ERRCODES = Path("/usr/share/postgresql/15/errcodes.txt")

UNIQUE_FIELDS = {
    "S": "ERROR",
    "V": "ERROR",
    "C": "23505",
    "M": 'duplicate key value violates unique constraint "t_pkey"',
    "D": "Key (id)=(1) already exists.",
    "s": "public",
    "t": "t",
    "n": "t_pkey",
    "F": "nbtinsert.c",
    "L": "664",
    "R": "_bt_check_unique",
}


def generated_classes() -> list[type[DatabaseError]]:
    classes = []
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, DatabaseError) and obj is not DatabaseError:
            classes.append(obj)
    return classes


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [
        ("23505", UniqueViolation),
        ("23000", IntegrityConstraintViolation),
        ("23xyz", IntegrityConstraintViolation),
        ("ZZ999", DatabaseError),
        ("57014", QueryCanceled),
        ("28P01", InvalidPassword),
        ("0A000", FeatureNotSupported),
        ("25P02", InFailedSqlTransaction),
    ],
)
def test_lookup(sqlstate: str, expected: type[DatabaseError]) -> None:
    assert lookup(sqlstate) is expected


def test_unique_violation_is_an_integrity_constraint_violation() -> None:
    assert issubclass(UniqueViolation, IntegrityConstraintViolation)
    assert UniqueViolation.sqlstate_code == "23505"
    assert IntegrityConstraintViolation.sqlstate_code == "23000"
    assert IntegrityConstraintViolation.__bases__ == (DatabaseError,)


def test_hierarchy() -> None:
    assert issubclass(Error, Exception)
    assert issubclass(InterfaceError, Error)
    assert issubclass(RowCountError, InterfaceError)
    for cls in (EncodeError, DecodeError, ConnectError, ConnectionClosed, ProtocolError):
        assert cls.__bases__ == (Error,)
        assert not issubclass(cls, DatabaseError)
    assert DatabaseError.__bases__ == (Error,)
    assert DatabaseError.sqlstate_code is None


def test_from_fields() -> None:
    err = DatabaseError.from_fields(UNIQUE_FIELDS)
    assert type(err) is UniqueViolation
    assert err.severity == "ERROR"
    assert err.severity_localized == "ERROR"
    assert err.sqlstate == "23505"
    assert err.message == 'duplicate key value violates unique constraint "t_pkey"'
    assert err.detail == "Key (id)=(1) already exists."
    assert err.schema_name == "public"
    assert err.table_name == "t"
    assert err.constraint_name == "t_pkey"
    assert err.file == "nbtinsert.c"
    assert err.line == "664"
    assert err.routine == "_bt_check_unique"
    set_attrs = {errors.FIELD_NAMES[code] for code in UNIQUE_FIELDS}
    for attr in set(errors.FIELD_NAMES.values()) - set_attrs:
        assert getattr(err, attr) is None, attr
    assert {
        "hint",
        "position",
        "internal_position",
        "internal_query",
        "where",
        "column_name",
        "data_type_name",
    } == set(errors.FIELD_NAMES.values()) - set_attrs


def test_str_reads_like_psql() -> None:
    err = DatabaseError.from_fields(UNIQUE_FIELDS)
    assert str(err) == (
        'ERROR:  duplicate key value violates unique constraint "t_pkey"\n'
        "DETAIL:  Key (id)=(1) already exists."
    )


def test_from_fields_unknown_sqlstate_keeps_it() -> None:
    err = DatabaseError.from_fields({"S": "FATAL", "C": "ZZ999", "M": "boom"})
    assert type(err) is DatabaseError
    assert err.sqlstate == "ZZ999"
    assert err.severity == "FATAL"
    assert str(err) == "FATAL:  boom"


def test_pickle_round_trip() -> None:
    err = DatabaseError.from_fields(UNIQUE_FIELDS)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is UniqueViolation
    for attr in errors.FIELD_NAMES.values():
        assert getattr(copy, attr) == getattr(err, attr), attr
    assert str(copy) == str(err)
    assert copy.args == err.args


def test_generated_classes() -> None:
    classes = generated_classes()
    assert len(classes) > 200
    codes = [cls.sqlstate_code for cls in classes]
    assert len(set(codes)) == len(codes), "two classes share a SQLSTATE"
    assert len(set(classes)) == len(classes)
    assert set(errors._by_sqlstate.values()) == set(classes)
    for cls in classes:
        code = cls.sqlstate_code
        assert code is not None
        assert len(code) == 5
        assert lookup(code) is cls
        assert cls.__module__ == "pgany.errors"
        assert getattr(errors, cls.__name__) is cls
        assert cls.__doc__
        assert cls.__doc__.startswith(f"SQLSTATE {code} ")
        if code.endswith("000"):
            assert cls.__bases__ == (DatabaseError,)
        else:
            assert cls.__bases__ == (lookup(code[:2] + "000"),)
    assert "00000" not in errors._by_sqlstate, "class 00 (success) is skipped"


def test_all_is_complete_and_unique() -> None:
    assert len(set(errors.__all__)) == len(errors.__all__)
    for name in errors.__all__:
        assert hasattr(errors, name), name


def test_naming_collisions_resolved() -> None:
    assert errors.StringDataRightTruncation.sqlstate_code == "22001"
    assert errors.StringDataRightTruncationWarning.sqlstate_code == "01004"
    assert errors.ModifyingSqlDataNotPermitted.sqlstate_code == "2F002"
    assert errors.ModifyingSqlDataNotPermittedExt.sqlstate_code == "38002"
    assert errors.NullValueNotAllowed.sqlstate_code == "22004"
    assert errors.NullValueNotAllowedExt.sqlstate_code == "39004"


def test_shadowed_builtins_unused_by_hand_written_code() -> None:
    # Some generated names shadow builtins (SyntaxError, Warning, ...): the
    # hand-written part of the module must not rely on those builtins.
    shadowed = {cls.__name__ for cls in generated_classes()} & set(dir(builtins))
    source = ERRORS_PY.read_text(encoding="utf-8")
    hand_written = source.split("# BEGIN GENERATED", 1)[0]
    used = {
        node.id
        for node in ast.walk(ast.parse(hand_written))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    assert not (used & shadowed)


@pytest.mark.skipif(
    not ERRCODES.exists(), reason=f"{ERRCODES} not on this machine (install postgresql-15)"
)
def test_generated_block_is_up_to_date(tmp_path: Path) -> None:
    target = tmp_path / "errors.py"
    shutil.copyfile(ERRORS_PY, target)
    subprocess.run(
        [sys.executable, str(GENERATOR), str(ERRCODES), "--target", str(target)],
        check=True,
    )
    assert target.read_text(encoding="utf-8") == ERRORS_PY.read_text(encoding="utf-8"), (
        "pgany/errors.py is out of date: run python tools/gen_errors.py"
    )


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_errors", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_errors"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["gen_errors"]
    return module


def test_generator_fails_on_unresolved_duplicate_name() -> None:
    gen = _load_generator()
    text = (
        "Section: Class 22 - Data Exception\n"
        "22000    E    ERRCODE_DATA_EXCEPTION          data_exception\n"
        "22001    E    ERRCODE_FOO                     same_name\n"
        "Section: Class 23 - Integrity Constraint Violation\n"
        "23000    E    ERRCODE_ICV                     integrity_constraint_violation\n"
        "23001    E    ERRCODE_BAR                     same_name\n"
    )
    sections, codes = gen.parse(text)
    with pytest.raises(gen.GenerationError, match="SameName"):
        gen.build(sections, codes)


def test_generator_fails_on_unknown_line() -> None:
    gen = _load_generator()
    with pytest.raises(gen.GenerationError, match="unexpected line"):
        gen.parse("Section: Class 22 - Data Exception\nnonsense here\n")
