"""An asyncio web app holding its pool in its lifespan (Starlette, FastAPI, Quart... alike)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

import pgany


class App:
    """Stands in for the framework's application object."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    # The framework enters this once at startup and leaves it at shutdown:
    # the pool's connections live exactly as long as the app.
    async with pgany.create_pool(app.dsn, min_size=1, max_size=20, name="web") as pool:
        app.state["pool"] = pool
        yield


async def get_user_count(app: App) -> dict[str, int]:
    """A request handler."""
    pool: pgany.Pool = app.state["pool"]
    n = await pool.query_value("SELECT count(*) FROM pg_catalog.pg_roles")
    return {"roles": n}


async def main(dsn: str) -> None:
    app = App(dsn)
    async with lifespan(app):
        # Requests arrive concurrently; each handler uses the shared pool.
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(get_user_count, app)
        assert (await get_user_count(app))["roles"] >= 1
    assert app.state["pool"].is_closed


if __name__ == "__main__":
    import sys

    dsn = sys.argv[1] if len(sys.argv) > 1 else "postgresql://app@localhost/app"
    anyio.run(main, dsn)
