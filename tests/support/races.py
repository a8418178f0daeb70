"""Two requests made to meet at one point: each is held after its first statement that matches,
until both are there, so a check-then-write done in two statements would let both through."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from sqlalchemy import event
from sqlalchemy.engine import Engine

# How long one request waits for the other at the meeting point: the other may never get there
# because it waits on a lock the first holds, which is the behaviour under test.
MEETING_SECONDS = 3


def held_pair(matches: Callable[[str], bool], send: Callable[[], int]) -> list[int]:
    """Run `send()` twice at once, each held after its first statement for which
    `matches(statement)` is true, until both have made one or MEETING_SECONDS pass; returns the
    two statuses, sorted."""
    both = threading.Barrier(2, timeout=MEETING_SECONDS)
    held = threading.local()

    def hold(_conn, _cursor, statement, *_args):
        if matches(statement) and not getattr(held, "done", False):
            held.done = True
            try:
                both.wait()
            except threading.BrokenBarrierError:
                pass  # the other waits on this one's lock: go on alone

    event.listen(Engine, "after_cursor_execute", hold)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return sorted(future.result(timeout=60) for future in [pool.submit(send), pool.submit(send)])
    finally:
        event.remove(Engine, "after_cursor_execute", hold)
