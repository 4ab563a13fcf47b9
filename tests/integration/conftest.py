"""Fixtures for tests that talk to a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import pgany


@pytest.fixture
async def client(pg_dsn: str) -> AsyncIterator[pgany.Client]:
    """A connected client; its connection task lives in the fixture's task group."""
    async with pgany.connect(pg_dsn) as c:
        yield c
