"""A server process's garbage collection after startup: what exists then is frozen, what comes later is collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from nexa_research.server.process_gc import YOUNG_THRESHOLD, freeze_startup_objects


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_startup_objects_are_frozen_and_a_later_cycle_is_still_collected(restore_gc: None) -> None:
    startup, later = Node(), None
    startup.other = startup
    kept = weakref.ref(startup)
    freeze_startup_objects()
    later = Node()
    later.other = later
    gone = weakref.ref(later)
    del startup, later

    gc.collect()

    assert gone() is None  # what a run allocates is collected as before
    assert kept() is not None  # a startup object that became garbage is not: frozen is for good, hence only after startup
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
