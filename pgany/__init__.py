"""pgany: a pure-Python PostgreSQL driver for anyio (trio and asyncio).

::

    async with pgany.connect("postgresql://app@localhost/app") as client:
        row = await client.query_one("SELECT $1::int + 1 AS n", 41)
"""

from pgany._driver import Notification
from pgany._pool import Pool, PoolListener, PoolStatistics, create_pool, run_pool
from pgany._rows import Column, Row, SimpleQueryRow
from pgany._stream import RowStream
from pgany._transaction import Savepoint, Transaction
from pgany.client import (
    CancelToken,
    Client,
    CommandComplete,
    NotificationStream,
    Portal,
    SimpleQueryMessage,
    SimpleRowDescription,
    Statement,
    connect,
    run_connection,
)
from pgany.config import Config
from pgany.errors import (
    ConnectError,
    ConnectionClosed,
    DatabaseError,
    DecodeError,
    EncodeError,
    Error,
    InterfaceError,
    PoolClosed,
    PoolTimeout,
    PoolTooBusy,
    ProtocolError,
    RowCountError,
)
from pgany.types import Interval, Range

__version__ = "0.1.0.dev0"

__all__ = [
    "Range",
    "NotificationStream",
    "Transaction",
    "Savepoint",
    "RowStream",
    "Portal",
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
    "Pool",
    "PoolClosed",
    "PoolListener",
    "PoolStatistics",
    "PoolTimeout",
    "PoolTooBusy",
    "ProtocolError",
    "Row",
    "RowCountError",
    "SimpleQueryMessage",
    "SimpleQueryRow",
    "SimpleRowDescription",
    "Statement",
    "connect",
    "create_pool",
    "run_connection",
    "run_pool",
]
