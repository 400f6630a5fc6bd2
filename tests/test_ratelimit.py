"""Token buckets per client."""

from healthmon.ratelimit import RateLimiter, retry_after_header


def test_burst_then_refill_per_client():
    now = [0.0]
    limiter = RateLimiter(rate_per_minute=30, burst=3, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == 2.0  # 30/min: one token every 2 s
    assert limiter.acquire("b") == 0.0  # another client has its own bucket
    now[0] = 2.0
    assert limiter.acquire("a") == 0.0
    assert retry_after_header(0.2) == "1" and retry_after_header(2.5) == "3"


def test_zero_rate_disables_the_limit():
    limiter = RateLimiter(rate_per_minute=0, burst=1)
    assert not limiter.enabled and all(limiter.acquire("a") == 0.0 for _ in range(100))


def test_client_table_is_bounded():
    limiter = RateLimiter(rate_per_minute=60, burst=1, max_clients=10)
    for i in range(100):
        limiter.acquire(f"10.0.0.{i}")
    assert len(limiter._buckets) == 10
