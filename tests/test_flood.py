"""Acks first (bot/flood.py): when the worker child of `python app.py` holds off, and for how long."""

from __future__ import annotations

import pytest

from bot.flood import FloodWatch


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def arrive(watch: FloodWatch, clock: Clock, *, per_second: float, seconds: float, step: float = 0.01) -> None:
    """Tasks arriving at a steady rate, in reads of `step` seconds each."""
    for _ in range(round(seconds / step)):
        clock.advance(step)
        watch.saw(round(per_second * step))


def test_everyday_traffic_never_holds_the_worker(clock):
    watch = FloodWatch(rate=200, window=0.1, clock=clock)
    arrive(watch, clock, per_second=100, seconds=2)  # a busy morning is a few a second; 100 is a lot
    assert not watch.holding() and watch.holds == 0


def test_a_flood_holds_the_worker_until_it_is_over(clock):
    watch = FloodWatch(rate=200, window=0.1, max_hold=10, clock=clock)
    arrive(watch, clock, per_second=1000, seconds=1)
    assert watch.holding() and watch.holds == 1
    arrive(watch, clock, per_second=1000, seconds=2)
    assert watch.holding()
    clock.advance(0.11)  # nothing more came in for a window: the worker goes back to work
    assert not watch.holding()
    assert watch.holds == 1


def test_a_flood_that_goes_on_is_held_off_for_at_most_max_hold_then_worked_through(clock):
    watch = FloodWatch(rate=200, window=0.1, max_hold=10, clock=clock)
    arrive(watch, clock, per_second=1000, seconds=0.2)
    assert watch.holding()
    arrive(watch, clock, per_second=1000, seconds=9.7)
    assert watch.holding()
    arrive(watch, clock, per_second=1000, seconds=0.4)  # over 10 s in a row: the replies must not starve
    assert not watch.holding()
    arrive(watch, clock, per_second=1000, seconds=5)
    assert not watch.holding()  # still the same flood: it works as long as it was held
    arrive(watch, clock, per_second=1000, seconds=5.2)  # then the next stretch is held again
    assert watch.holding() and watch.holds == 2


def test_a_short_burst_costs_only_a_short_pause(clock):
    watch = FloodWatch(rate=200, window=0.1, max_hold=10, clock=clock)
    arrive(watch, clock, per_second=1000, seconds=0.4)  # a warm-up, say
    assert watch.holding()
    clock.advance(0.5)
    assert not watch.holding()  # the hold lasted about half a second: so does the pause after it
    clock.advance(0.5)
    arrive(watch, clock, per_second=1000, seconds=0.2)
    assert watch.holding() and watch.holds == 2


def test_short_lulls_in_a_flood_never_hold_the_worker_more_than_half_the_time(clock):
    watch = FloodWatch(rate=200, window=0.1, max_hold=10, clock=clock)
    held = total = 0
    for _ in range(6):  # a minute of flood with a 0.11 s pause every 10.2 s
        for _ in range(1020):
            clock.advance(0.01)
            watch.saw(10)
            held += watch.holding()
            total += 1
        clock.advance(0.11)
        watch.holding()  # the pause ends a hold; the next may only begin 10 s later
    assert held / total <= 0.55


def test_reads_older_than_the_window_no_longer_count(clock):
    watch = FloodWatch(rate=200, window=0.1, clock=clock)
    watch.saw(15)
    clock.advance(0.06)
    watch.saw(10)  # 25 within 0.1 s: over 20
    assert watch.holding()
    clock.advance(0.05)  # the first read is out of the window: 10, and the hold ends
    assert not watch.holding()


def test_a_read_with_no_whole_line_counts_for_nothing(clock):
    watch = FloodWatch(rate=200, window=0.1, clock=clock)
    for _ in range(30):
        watch.saw(0)
    assert not watch.holding()
    watch.saw(21)
    assert watch.holding()
