"""Learning user-defined types from ``pg_type``, once per connection.

When a statement uses a type OID the connection's registry has no codec
for, the connection asks ``pg_type`` about it (and about the types it is
made of: array elements, composite fields, domain bases, range subtypes),
builds codecs with the builders in :mod:`pgany.types`, and registers them
in its own registry. OIDs that turn out to have no codec (an extension's
base type) are remembered too, so they are never looked up twice; they
travel as text.

A type can change after it was learned (``ALTER TYPE ... ADD ATTRIBUTE``):
:meth:`TypeLearner.relearn` looks every learned type up again and rebuilds
its codecs, which the client does once when a value fails to convert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from pgany.errors import DatabaseError
from pgany.types import Codec, Format, TypeRegistry
from pgany.types._array import register_array_of
from pgany.types._dynamic import composite_codecs, domain_codecs, enum_codecs
from pgany.types._hstore import hstore_codecs
from pgany.types._range import multirange_codecs, range_codecs

if TYPE_CHECKING:
    from pgany.protocol import Result

__all__ = ["CATALOG_QUERIES", "TypeLearner", "catalog_query"]

#: The SQL of the catalog queries pgany runs for itself. Their statements
#: convert values with pgany's own codecs, never with one a user registered
#: (pgany reads their answers, and a user's codec may return anything).
CATALOG_QUERIES: set[str] = set()


def catalog_query(sql: str) -> str:
    """Mark *sql* as one of pgany's own catalog queries (see :data:`CATALOG_QUERIES`)."""
    CATALOG_QUERIES.add(sql)
    return sql


_QUERY = """
SELECT t.oid, t.typname, t.typtype, t.typelem, t.typarray, t.typbasetype, t.typdelim,
       COALESCE(r.rngsubtype, 0::oid),
       COALESCE(mr.rngsubtype, 0::oid),
       CASE WHEN t.typtype = 'c' THEN ARRAY(
           SELECT a.attname::text FROM pg_catalog.pg_attribute a
           WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum) END,
       CASE WHEN t.typtype = 'c' THEN ARRAY(
           SELECT a.atttypid FROM pg_catalog.pg_attribute a
           WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum) END
FROM pg_catalog.pg_type t
LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
LEFT JOIN pg_catalog.pg_range mr ON {multirange_join}
WHERE t.oid = ANY($1::oid[])
"""


#: The lookup, by whether the server has multiranges (PostgreSQL 14 and later).
_LOOKUP = {
    has: catalog_query(_QUERY.format(multirange_join=join))
    for has, join in ((True, "mr.rngmultitypid = t.oid"), (False, "false"))
}


def _known(registry: TypeRegistry, oid: int) -> bool:
    return (
        registry.get(oid, Format.BINARY) is not None or registry.get(oid, Format.TEXT) is not None
    )


class QueryRunner(Protocol):
    """What type learning needs of a session (:class:`pgany._session.Session`)."""

    @property
    def registry(self) -> TypeRegistry: ...

    @property
    def server_version(self) -> int: ...

    async def execute(
        self, sql: str, params: Sequence[Any], holder: object | None = None
    ) -> Result: ...

    def holds(self, holder: object | None) -> bool: ...


class TypeLearner:
    """Per-connection: which OIDs were looked up, and the lookups under way."""

    __slots__ = ("_learned", "_pending", "_session", "_unknowable", "has_learned")

    def __init__(self, session: QueryRunner) -> None:
        self._session = session
        self._unknowable: set[int] = set()
        self._pending: dict[int, anyio.Event] = {}
        #: The codecs registered for each learned OID.
        self._learned: dict[int, list[Codec]] = {}
        #: Whether any type was learned (so one may have changed since): a
        #: plain attribute, read for every query.
        self.has_learned = False

    def clear(self) -> None:
        """Forget what was learned (the registry itself is replaced by the client)."""
        self._unknowable.clear()
        self._learned.clear()
        self.has_learned = False

    async def relearn(self, holder: object | None) -> bool:
        """Look every learned type up again and rebuild its codecs; False if none was learned.

        A type whose codec was replaced since (``register_codec``) keeps it.
        """
        registry = self._session.registry
        oids = {
            oid
            for oid, codecs in self._learned.items()
            if all(registry.get(c.oid, c.format) is c for c in codecs)
        }
        if not oids:
            return False
        await self._lookup(oids, holder, rebuild=oids)
        return True

    def missing(self, oids: Iterable[int]) -> set[int]:
        registry = self._session.registry
        return {o for o in oids if o and o not in self._unknowable and not _known(registry, o)}

    async def learn(self, oids: Iterable[int], holder: object | None) -> None:
        """Make sure every OID in *oids* has a codec, or is known to have none."""
        todo = self.missing(oids)
        if not todo:
            return
        # Another task may be looking some of them up already: wait for it,
        # unless the caller holds the session (a transaction or stream): that
        # task's lookup then waits for the caller, so the caller looks them up too.
        if not self._session.holds(holder):
            for oid in list(todo):
                event = self._pending.get(oid)
                if event is not None:
                    await event.wait()
                    todo.discard(oid)
            todo = self.missing(todo)
        if not todo:
            return
        event = anyio.Event()
        for oid in todo:
            self._pending[oid] = event
        try:
            await self._lookup(todo, holder)
        except DatabaseError:
            pass  # e.g. in a failed transaction: these travel as text this time
        finally:
            for oid in todo:
                if self._pending.get(oid) is event:
                    del self._pending[oid]
            event.set()

    async def _lookup(
        self,
        oids: set[int],
        holder: object | None,
        rebuild: set[int] | frozenset[int] = frozenset(),
    ) -> None:
        session = self._session
        sql = _LOOKUP[session.server_version >= 140000]
        info: dict[int, Any] = {}
        wanted = set(oids)
        for _ in range(8):  # dependencies nest; eight levels is plenty
            ask = sorted(o for o in wanted if o not in info)
            if not ask:
                break
            result = await session.execute(sql, (ask,), holder)
            for row in result.rows:
                info[int(row[0])] = row
            deps = set()
            for oid in ask:
                row = info.get(oid)
                if row is None:
                    continue
                for dep in (row[3], row[5], row[7], row[8], *(row[10] or ())):
                    if dep:
                        deps.add(int(dep))
            wanted = (self.missing(deps) | (deps & rebuild)) - set(info)
        registry = session.registry
        done: set[int] = set()

        def build(oid: int, depth: int = 0) -> None:
            if oid in done or depth > 16:
                return
            done.add(oid)
            row = info.get(oid)
            if row is None or (_known(registry, oid) and oid not in rebuild):
                return
            _, name, typtype, elem, array_oid, base, delim, rsub, mrsub, _names, types = row
            codecs: list[Any] = []
            if typtype == "e":
                codecs = enum_codecs(oid, name, array_oid=array_oid)
            elif typtype == "d":
                build(int(base), depth + 1)
                codecs = domain_codecs(
                    oid, name, int(base), registry, array_oid=array_oid, delimiter=delim
                )
            elif typtype == "c":
                for t in types or ():
                    build(int(t), depth + 1)
                fields = list(zip(row[9] or (), (int(t) for t in types or ()), strict=False))
                codecs = composite_codecs(oid, name, fields, registry, array_oid=array_oid)
            elif typtype == "r":
                build(int(rsub), depth + 1)
                codecs = range_codecs(
                    registry.get(int(rsub), Format.BINARY),
                    registry.get(int(rsub), Format.TEXT),
                    oid,
                    name,
                    array_oid=array_oid,
                )
            elif typtype == "m":
                build(int(mrsub), depth + 1)
                codecs = multirange_codecs(
                    registry.get(int(mrsub), Format.BINARY),
                    registry.get(int(mrsub), Format.TEXT),
                    oid,
                    name,
                    array_oid=array_oid,
                )
            elif typtype == "b" and name == "hstore":
                codecs = hstore_codecs(oid)
            elif elem and typtype == "b":
                build(int(elem), depth + 1)
                register_array_of(registry, int(elem), oid)
                self._record(registry, oid)
                return
            for codec in codecs:
                registry.register(codec)
            if typtype == "b" and name == "hstore" and array_oid:
                register_array_of(registry, oid, int(array_oid))
            self._record(registry, oid)

        for oid in list(info):
            build(oid)
        for oid in oids:
            if not _known(registry, oid):
                self._unknowable.add(oid)

    def _record(self, registry: TypeRegistry, oid: int) -> None:
        """Note the codecs just built for *oid* (or that it has none)."""
        codecs = [c for fmt in Format if (c := registry.get(oid, fmt)) is not None]
        if codecs:
            self._learned[oid] = codecs
            self.has_learned = True
        else:
            self._unknowable.add(oid)
