"""The sans-I/O core of pgany: PostgreSQL's frontend/backend protocol 3.0.

Nothing here touches a socket, awaits, or imports anyio, ssl or socket.
"""

from pgany.protocol.connection import (
    NEED_DATA,
    Connected,
    Connection,
    ConnectionEnded,
    CopyStarted,
    Event,
    RequestDone,
)
from pgany.protocol.pipeline import CopyDirection, Request, Result, rows_from_tag
from pgany.protocol.state import TRANSITIONS, Kind, Phase

__all__ = [
    "NEED_DATA",
    "TRANSITIONS",
    "Connected",
    "Connection",
    "ConnectionEnded",
    "CopyDirection",
    "CopyStarted",
    "Event",
    "Kind",
    "Phase",
    "Request",
    "RequestDone",
    "Result",
    "rows_from_tag",
]
