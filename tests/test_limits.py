"""Rate limits, body size, and the bounded queue in front of answers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ratelimit import RateLimiter
from qa.settings import Settings
from tests.browser import LiveServer

ASK = {"question": "兰州市委的决定要求什么?"}
KEY_A, KEY_B = "key-a-0123456789abcdef", "key-b-0123456789abcdef"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_the_rate_and_says_how_long_to_wait():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == 1  # one token a second
    assert limiter.take("b") == 0.0  # other callers are not affected
    clock.now += 1.0
    assert limiter.take("a") == 0.0 and limiter.take("a") == 1
    clock.now += 3600
    assert [limiter.take("a") for _ in range(4)] == [0.0, 0.0, 0.0, 1]  # refills only to the burst


def test_a_request_is_refused_if_any_of_its_buckets_is_empty_and_then_takes_from_none():
    limiter = RateLimiter(per_minute=6, burst=1, clock=Clock())
    assert limiter.take("addr:1", "key:a") == 0.0
    assert limiter.take("addr:2", "key:a") == 10  # the key is spent, from any address
    assert limiter.take("addr:2", "key:b") == 0.0  # addr:2 lost nothing to the refusal


def test_idle_buckets_are_forgotten(monkeypatch):
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock)
    monkeypatch.setattr(RateLimiter, "MAX_BUCKETS", 10)
    for i in range(10):
        limiter.take(f"addr:{i}")
    clock.now += 10
    limiter.take("addr:new")
    assert set(limiter.buckets) == {"addr:new"}


def test_over_the_limit_the_api_answers_429_with_retry_after(fake_service):
    settings = Settings(rate_limit=60, rate_limit_burst=2, api_keys=f"a:{KEY_A},b:{KEY_B}")
    app = create_app(settings, service=fake_service)
    with TestClient(app) as c, TestClient(app, client=("10.0.0.9", 4000)) as other:
        a = {"Authorization": f"Bearer {KEY_A}"}
        assert [c.get("/v1/documents", headers=a).status_code for _ in range(2)] == [200, 200]
        r = c.get("/v1/documents", headers=a)
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert int(r.headers["retry-after"]) >= 1
        # key a is spent everywhere; key b from another address is not limited
        assert other.get("/v1/documents", headers=a).status_code == 429
        b = {"Authorization": f"Bearer {KEY_B}"}
        assert other.get("/v1/documents", headers=b).status_code == 200
        assert c.get("/healthz").status_code == 200  # probes are never limited


def test_the_address_is_limited_for_anonymous_callers(fake_service):
    app = create_app(Settings(rate_limit=60, rate_limit_burst=1), service=fake_service)
    with TestClient(app) as c:
        assert c.get("/v1/documents").status_code == 200
        assert c.get("/v1/documents").status_code == 429


@pytest.fixture
def small_body(fake_service):
    settings = Settings(rate_limit=0, max_body_bytes=2048)
    with TestClient(create_app(settings, service=fake_service)) as c:
        yield c


def test_a_declared_body_over_the_limit_is_413_before_it_is_read(small_body):
    r = small_body.post("/v1/ask", json={"question": "长" * 3000})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_a_body_without_a_length_is_counted_as_it_arrives(small_body):
    def chunks():
        yield b'{"question": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    r = small_body.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_a_chunked_body_under_the_limit_still_arrives_whole(small_body):
    def chunks():
        yield b'{"question": "\\u5170\\u5dde'
        yield b'\\u5e02\\u59d4\\u7684\\u51b3\\u5b9a\\u8981\\u6c42\\u4ec0\\u4e48?"}'

    r = small_body.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["citations"]


def test_the_question_length_limit_is_its_own_clear_error(fake_service):
    with TestClient(create_app(Settings(rate_limit=0), service=fake_service)) as c:
        r = c.post("/v1/ask", json={"question": "问" * 2001})
    assert r.status_code == 400 and "2000" in r.json()["error"]["message"]


@pytest.fixture
def gated(fake_service, monkeypatch):
    """A live server answering one question at a time, with one place in the queue."""
    release, started = threading.Event(), threading.Semaphore(0)
    answer = fake_service.ask

    def slow_ask(*args, **kwargs):
        started.release()
        release.wait(20)
        return answer(*args, **kwargs)

    monkeypatch.setattr(fake_service, "ask", slow_ask)
    settings = Settings(
        rate_limit=0, max_concurrent_answers=1, max_queued_answers=1, queue_timeout=60
    )
    server = LiveServer(create_app(settings, service=fake_service)).start()
    yield server.url, release, started
    release.set()
    server.stop()


def test_beyond_the_slots_requests_queue_and_beyond_the_queue_503(gated):
    url, release, started = gated
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(httpx.post, f"{url}/v1/ask", json=ASK, timeout=30)
        assert started.acquire(timeout=10)  # the first holds the only slot
        queued = pool.submit(httpx.post, f"{url}/v1/ask", json=ASK, timeout=30)
        time.sleep(0.3)  # the second is waiting in the queue
        full = httpx.post(f"{url}/v1/ask", json=ASK, timeout=30)
        assert full.status_code == 503 and full.json()["error"]["code"] == "busy"
        assert int(full.headers["retry-after"]) >= 1
        assert httpx.get(f"{url}/v1/documents").status_code == 200  # reads are not gated
        release.set()
        assert first.result().status_code == 200 and queued.result().status_code == 200


def test_a_request_that_waits_longer_than_the_queue_timeout_gets_503(fake_service, monkeypatch):
    release = threading.Event()
    answer = fake_service.ask
    monkeypatch.setattr(fake_service, "ask", lambda *a, **k: release.wait(20) and answer(*a, **k))
    settings = Settings(rate_limit=0, max_concurrent_answers=1, queue_timeout=0.5)
    server = LiveServer(create_app(settings, service=fake_service)).start()
    try:
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(httpx.post, f"{server.url}/v1/ask", json=ASK, timeout=30)
            time.sleep(0.3)
            began = time.monotonic()
            late = httpx.post(f"{server.url}/v1/ask/stream", json=ASK, timeout=30)
            assert late.status_code == 503 and "0.5 s" in late.json()["error"]["message"]
            assert 0.4 < time.monotonic() - began < 5
            release.set()
            assert first.result().status_code == 200
    finally:
        release.set()
        server.stop()
