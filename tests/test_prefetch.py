"""handover.prefetch: items in order, the producer's error raised in the consumer, and
an early stop that does not wait for the producer to finish."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from handover.prefetch import prefetch


def test_items_come_in_order_from_another_thread() -> None:
    seen: list[str] = []

    def produce() -> Iterator[int]:
        for i in range(100):
            seen.append(threading.current_thread().name)
            yield i

    assert list(prefetch(produce(), depth=3, name="t-producer")) == list(range(100))
    assert set(seen) == {"t-producer"}


def test_a_producer_error_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("broken source")

    got: list[int] = []
    with pytest.raises(ValueError, match="broken source"):
        for item in prefetch(produce()):
            got.append(item)
    assert got == [1, 2]


def test_closing_early_stops_the_producer() -> None:
    produced: list[int] = []
    released = threading.Event()

    def produce() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i
        released.set()

    it = prefetch(produce(), depth=2)
    assert next(it) == 0
    it.close()  # joins the producer, which stops at its next item
    assert len(produced) <= 5 and not released.is_set()


def test_closing_early_closes_the_producer_on_its_thread_before_returning() -> None:
    # A producer's cleanup (a cursor, a connection: its finally and with blocks) runs
    # on the producer's thread and is over when close() returns, not left to the
    # garbage collector on whichever thread it runs.
    cleaned: list[str] = []

    def produce() -> Iterator[int]:
        try:
            yield from range(10_000)
        finally:
            cleaned.append(threading.current_thread().name)

    it = prefetch(produce(), depth=2, name="the-producer")
    assert next(it) == 0
    it.close()
    assert cleaned == ["the-producer"]
