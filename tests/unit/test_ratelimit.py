"""The token bucket per key: a burst, then one request per 1/rate seconds; keys apart."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from adapters.security.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_a_wait_of_one_token() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_s=2, burst=3, clock=clock)
    assert [limiter.acquire("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("k") == 0.5
    clock.now += 0.25
    assert limiter.acquire("k") == 0.25
    clock.now += 0.25
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") == 0.5


def test_keys_have_buckets_of_their_own() -> None:
    limiter = RateLimiter(rate_per_s=1, burst=1, clock=FakeClock())
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0.0


def test_an_idle_bucket_fills_up_to_the_burst_only() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_s=10, burst=2, clock=clock)
    limiter.acquire("k")
    clock.now += 3600
    assert [limiter.acquire("k") for _ in range(3)][-1] > 0


@given(
    rate=st.floats(0.5, 100),
    burst=st.integers(1, 20),
    gaps=st.lists(st.floats(0, 2), max_size=200),
)
def test_granted_never_exceeds_burst_plus_rate_times_elapsed(
    rate: float, burst: int, gaps: list[float]
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate, burst, clock=clock)
    start, granted = clock.now, 0
    for gap in gaps:
        clock.now += gap
        wait = limiter.acquire("k")
        assert wait >= 0
        granted += wait == 0
        assert granted <= burst + rate * (clock.now - start) + 1e-6
        if wait:  # waiting the answer's time is enough to be granted
            clock.now += wait
            assert limiter.acquire("k") == 0
            granted += 1


def test_threads_share_one_bucket_without_losing_count() -> None:
    limiter = RateLimiter(rate_per_s=1, burst=100, clock=FakeClock())
    granted: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(50):
            wait = limiter.acquire("k")
            with lock:
                granted.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for wait in granted if wait == 0) == 100


def test_the_standard_fields_say_the_burst_what_is_left_and_when_it_is_full() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_s=2, burst=3, clock=clock)
    fields = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")

    def seen() -> tuple[str, ...]:
        headers = limiter.headers("k")
        return tuple(headers[f] for f in fields)

    assert seen() == ("3", "3", "0")
    limiter.acquire("k")
    assert seen() == ("3", "2", "1")  # half a second to refill one, rounded up
    limiter.acquire("k")
    limiter.acquire("k")
    assert seen() == ("3", "0", "2")
    clock.now += 0.5
    assert seen() == ("3", "1", "1")
    assert limiter.headers("k")["RateLimit-Policy"] == "3;w=2"
