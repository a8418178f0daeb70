"""A clock a test moves by hand, for the process caches and leases that take a clock."""
from __future__ import annotations


class Clock:
    """Called like time.monotonic; `now` is what it answers, set or advanced by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
