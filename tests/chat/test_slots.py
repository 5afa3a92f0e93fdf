"""AgentSlots: one live agent per session, and how many answers are being written."""

from __future__ import annotations

from assistant.chat.slots import AgentSlots


def test_busy_count_counts_held_slots_only() -> None:
    slots = AgentSlots(4)
    a = slots.for_session("a", "u1")
    b = slots.for_session("b", "u1")
    assert slots.busy_count() == 0
    assert a.lock.acquire(blocking=False)
    assert slots.busy_count() == 1
    assert b.lock.acquire(blocking=False)
    assert slots.busy_count() == 2
    a.lock.release()
    b.lock.release()
    assert slots.busy_count() == 0
