"""The public surface: DESIGN's names exist, are exported, and say ``pgany.X``."""

from __future__ import annotations

import inspect

import pgany
import pgany.copy
import pgany.errors
import pgany.types

EXPORTED = {
    "CancelToken",
    "Client",
    "Column",
    "CommandComplete",
    "Config",
    "ConnectError",
    "ConnectionClosed",
    "DatabaseError",
    "DecodeError",
    "EncodeError",
    "Error",
    "InterfaceError",
    "Interval",
    "Notification",
    "NotificationStream",
    "Pool",
    "PoolClosed",
    "PoolListener",
    "PoolStatistics",
    "PoolTimeout",
    "PoolTooBusy",
    "Portal",
    "ProtocolError",
    "Range",
    "Row",
    "RowCountError",
    "RowStream",
    "Savepoint",
    "SimpleQueryMessage",
    "SimpleQueryRow",
    "SimpleRowDescription",
    "Statement",
    "Transaction",
    "connect",
    "create_pool",
    "run_connection",
    "run_pool",
}


def test_all_is_pinned() -> None:
    assert set(pgany.__all__) == EXPORTED
    assert len(pgany.__all__) == len(set(pgany.__all__))


def test_public_classes_say_pgany() -> None:
    for name in pgany.__all__:
        obj = getattr(pgany, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__module__ == "pgany", (name, obj.__module__)


def test_design_names() -> None:
    client_methods = [
        "query",
        "query_one",
        "query_opt",
        "query_value",
        "execute",
        "executemany",
        "prepare",
        "query_stream",
        "simple_query",
        "batch_execute",
        "transaction",
        "copy_in",
        "copy_out",
        "copy_records_in",
        "notifications",
        "listen",
        "unlisten",
        "cancel_token",
        "close",
        "register_codec",
        "parameter_status",
        "clear_type_cache",
    ]
    for name in client_methods:
        assert callable(getattr(pgany.Client, name)), name
    for name in [
        "is_closed",
        "backend_pid",
        "server_version",
        "transaction_status",
        "notifications_dropped",
    ]:
        assert isinstance(inspect.getattr_static(pgany.Client, name), property), name
    # Coroutines where DESIGN says so, plain calls where it says "not a coroutine".
    for name in [
        "query",
        "execute",
        "executemany",
        "prepare",
        "simple_query",
        "batch_execute",
        "close",
        "listen",
        "unlisten",
        "register_codec",
        "copy_records_in",
    ]:
        assert inspect.iscoroutinefunction(getattr(pgany.Client, name)), name
    for name in [
        "query_stream",
        "transaction",
        "copy_in",
        "copy_out",
        "notifications",
        "cancel_token",
        "parameter_status",
    ]:
        assert not inspect.iscoroutinefunction(getattr(pgany.Client, name)), name
    for name in ["savepoint", "bind", "query_portal", "commit", "rollback", "query", "execute"]:
        assert callable(getattr(pgany.Transaction, name)), name
    for name in ["bind", "query_portal", "commit", "rollback"]:
        assert inspect.iscoroutinefunction(getattr(pgany.Transaction, name)), name
    assert callable(pgany.Config.from_dsn)
    assert inspect.iscoroutinefunction(pgany.CancelToken.cancel_query)
    assert pgany.copy.BinaryCopyInWriter and pgany.copy.BinaryCopyOutReader
    assert pgany.errors.lookup("28P01") is pgany.errors.InvalidPassword
    assert callable(pgany.types.register_codec)
    for name in ["Point", "Line", "LineSegment", "Box", "Path", "Polygon", "Circle"]:
        assert hasattr(pgany.types, name)
    assert pgany.Column._fields if hasattr(pgany.Column, "_fields") else True
    col = pgany.Column("n", 23, "int4", 0, 0)
    assert (col.name, col.type_oid, col.type_name, col.table_oid, col.column_id) == (
        "n",
        23,
        "int4",
        0,
        0,
    )
    note = pgany.Notification(1, "c", "p")
    assert (note.process_id, note.channel, note.payload) == (1, "c", "p")


def test_error_tree() -> None:
    assert issubclass(pgany.RowCountError, pgany.InterfaceError)
    for cls in (
        pgany.InterfaceError,
        pgany.EncodeError,
        pgany.DecodeError,
        pgany.ConnectError,
        pgany.ConnectionClosed,
        pgany.ProtocolError,
        pgany.DatabaseError,
    ):
        assert issubclass(cls, pgany.Error)
    assert issubclass(pgany.errors.UniqueViolation, pgany.errors.IntegrityConstraintViolation)
