"""The transition table, every (phase, kind) pair, and random walks over it.

Every phase is reached the honest way, by applying kinds along the table from
STARTUP (BROKEN by an illegal server message), never by assigning it. Then
each pair is either in :data:`TRANSITIONS` and moves to the phase it gives,
or is refused the documented way. Hypothesis drives random sequences of kinds
from every phase (h2's ``test_state_machines.py``).
"""

from __future__ import annotations

import re
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgany
from pgany.protocol.state import (
    CLIENT_KINDS,
    TRANSITIONS,
    Kind,
    Phase,
    StateMachine,
    kind_of_type_byte,
)

SERVER_KINDS = [k for k in Kind if k not in CLIENT_KINDS]


def _paths() -> dict[Phase, list[Kind]]:
    """The shortest list of kinds that leads from STARTUP to each phase."""
    paths: dict[Phase, list[Kind]] = {Phase.STARTUP: []}
    todo = deque([Phase.STARTUP])
    while todo:
        phase = todo.popleft()
        for kind in Kind:  # Enum order: deterministic
            nxt = TRANSITIONS.get((phase, kind))
            if nxt is not None and nxt not in paths:
                paths[nxt] = [*paths[phase], kind]
                todo.append(nxt)
    # BROKEN is reached by a server message the table does not allow.
    paths[Phase.BROKEN] = [Kind.READY_FOR_QUERY]
    return paths


PATHS = _paths()
#: Every phase the table can reach from STARTUP, plus BROKEN.
REACHABLE = frozenset(PATHS)


def machine_in(phase: Phase) -> StateMachine:
    sm = StateMachine()
    for kind in PATHS[phase]:
        try:
            sm.apply(kind)
        except pgany.ProtocolError:
            assert phase is Phase.BROKEN
    assert sm.phase is phase
    return sm


def test_every_phase_is_reachable() -> None:
    assert set(Phase) == REACHABLE


def test_the_table_only_names_phases_and_kinds() -> None:
    for (phase, kind), nxt in TRANSITIONS.items():
        assert isinstance(phase, Phase)
        assert isinstance(kind, Kind)
        assert isinstance(nxt, Phase)
        assert phase is not Phase.BROKEN  # nothing leaves BROKEN
        assert nxt is not Phase.BROKEN  # only a violation leads there


def test_every_live_phase_ends_on_eof_and_terminate() -> None:
    for phase in Phase:
        if phase is Phase.BROKEN:
            continue
        assert TRANSITIONS[(phase, Kind.EOF)] is Phase.CLOSED
        assert TRANSITIONS[(phase, Kind.TERMINATE)] is Phase.CLOSED


def test_a_new_machine_starts_in_startup() -> None:
    assert StateMachine().phase is Phase.STARTUP


def test_kind_of_type_byte() -> None:
    assert kind_of_type_byte(ord("Z")) is Kind.READY_FOR_QUERY
    assert kind_of_type_byte(ord("D")) is Kind.DATA_ROW
    assert kind_of_type_byte(ord("R")) is None  # refined from the message
    assert kind_of_type_byte(ord("x")) is None


ALL_PAIRS = [(phase, kind) for phase in Phase for kind in Kind]


@pytest.mark.parametrize(
    ("phase", "kind"), ALL_PAIRS, ids=[f"{p.name}-{k.name}" for p, k in ALL_PAIRS]
)
def test_every_pair(phase: Phase, kind: Kind) -> None:
    sm = machine_in(phase)
    expected = TRANSITIONS.get((phase, kind))
    if expected is not None:
        assert sm.apply(kind) is expected
        assert sm.phase is expected
        return
    if kind in CLIENT_KINDS:
        # The caller's mistake: refused, and nothing changes.
        error: type[Exception] = (
            pgany.ConnectionClosed
            if phase in (Phase.CLOSED, Phase.BROKEN)
            else pgany.InterfaceError
        )
        with pytest.raises(error):
            sm.apply(kind)
        assert sm.phase is phase
        with pytest.raises(error):  # and again: still refused, still unchanged
            sm.apply(kind)
        assert sm.phase is phase
        return
    # The server's violation: ProtocolError, and the machine is poisoned.
    if phase is Phase.BROKEN:
        with pytest.raises(pgany.ProtocolError, match="cannot handle ReadyForQuery in STARTUP"):
            sm.apply(kind)  # the original error, again
    else:
        message = f"cannot handle {kind.value} in {phase.name}"
        with pytest.raises(pgany.ProtocolError, match=re.escape(message)):
            sm.apply(kind)
    assert sm.phase is Phase.BROKEN
    assert_poisoned(sm)


def assert_poisoned(sm: StateMachine) -> None:
    for kind in Kind:
        if kind in CLIENT_KINDS:
            with pytest.raises(pgany.ConnectionClosed):
                sm.apply(kind)
        else:
            with pytest.raises(pgany.ProtocolError):
                sm.apply(kind)
        assert sm.phase is Phase.BROKEN


def test_the_poisoning_error_is_the_cause() -> None:
    sm = machine_in(Phase.IDLE)
    with pytest.raises(pgany.ProtocolError) as first:
        sm.apply(Kind.DATA_ROW)
    with pytest.raises(pgany.ProtocolError) as later:
        sm.apply(Kind.NOTICE)
    assert later.value.__cause__ is first.value
    with pytest.raises(pgany.ConnectionClosed) as closed:
        sm.apply(Kind.REQUEST)
    assert closed.value.__cause__ is first.value


def test_fail_poisons_with_the_given_error() -> None:
    sm = machine_in(Phase.BUSY)
    error = pgany.ProtocolError("bad frame")
    with pytest.raises(pgany.ProtocolError) as raised:
        sm.fail(error)
    assert raised.value is error
    assert sm.phase is Phase.BROKEN
    with pytest.raises(pgany.ProtocolError, match="bad frame"):
        sm.apply(Kind.EOF)


def test_client_errors_name_the_phase() -> None:
    sm = machine_in(Phase.STARTUP)
    with pytest.raises(pgany.InterfaceError, match="cannot send request in STARTUP"):
        sm.apply(Kind.REQUEST)
    sm = machine_in(Phase.IDLE)
    with pytest.raises(pgany.InterfaceError, match="in IDLE"):
        sm.apply(Kind.COPY_END)
    sm = machine_in(Phase.CLOSED)
    with pytest.raises(pgany.ConnectionClosed, match="closed"):
        sm.apply(Kind.REQUEST)


# -- random walks ---------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    start=st.sampled_from(sorted(Phase, key=lambda p: p.value)),
    kinds=st.lists(st.sampled_from(list(Kind)), max_size=40),
)
def test_random_walks_follow_the_table(start: Phase, kinds: list[Kind]) -> None:
    sm = machine_in(start)
    model = start
    for kind in kinds:
        expected = TRANSITIONS.get((model, kind))
        if expected is not None:
            assert sm.apply(kind) is expected
            model = expected
        elif kind in CLIENT_KINDS:
            with pytest.raises((pgany.InterfaceError, pgany.ConnectionClosed)):
                sm.apply(kind)
        else:
            with pytest.raises(pgany.ProtocolError):
                sm.apply(kind)
            model = Phase.BROKEN
        assert sm.phase is model
        assert sm.phase in REACHABLE


@settings(max_examples=300, deadline=None)
@given(kinds=st.lists(st.sampled_from(list(Kind)), max_size=60))
def test_random_walks_from_startup_stay_in_the_table(kinds: list[Kind]) -> None:
    """Without a model: each step either moves along the table or raises."""
    sm = StateMachine()
    for kind in kinds:
        before = sm.phase
        try:
            after = sm.apply(kind)
        except (pgany.InterfaceError, pgany.ConnectionClosed):
            assert kind in CLIENT_KINDS
            assert sm.phase is before
        except pgany.ProtocolError:
            assert kind not in CLIENT_KINDS
            assert sm.phase is Phase.BROKEN
        else:
            assert TRANSITIONS[(before, kind)] is after is sm.phase
        if sm.phase is Phase.BROKEN:
            assert before is Phase.BROKEN or (before, kind) not in TRANSITIONS
