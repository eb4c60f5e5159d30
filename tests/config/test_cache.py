"""The shared cache's backend (config.cache): Django's Redis backend with one redis-py client
held per connection pool. The API throttle and the read log's terms version ask it on every
request; a new client per call cost about 0.3 ms a request (docs/performance.md)."""

import socket

import pytest

from tests.config.test_settings_and_access import run_manage


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="needs Redis on 127.0.0.1:6379")


def test_a_redis_cache_url_selects_the_held_client_backend():
    shown = run_manage(
        "shell", "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        DJANGO_DEBUG="true", CACHE_URL="redis://127.0.0.1:6379/12",
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == "config.cache.RedisCache"


@needs_redis
def test_the_held_client_is_one_object_and_the_cache_works_as_djangos():
    from config.cache import RedisCache

    cache = RedisCache("redis://127.0.0.1:6379/12", {"KEY_PREFIX": "test-held-client"})
    client = cache._cache.get_client("a")
    assert cache._cache.get_client("b") is client  # Django's own makes a new one each call
    cache.set("counter", 1, timeout=30)
    assert cache.incr("counter") == 2
    cache.set("value", {"terms": "version"}, timeout=30)
    assert cache.get("value") == {"terms": "version"}
    assert cache.add("value", "other") is False
    cache.delete_many(["counter", "value"])
    assert cache.get("counter") is None and cache.get("value", "gone") == "gone"


@needs_redis
def test_hit_counts_every_concurrent_request_and_the_counter_expires():
    """The API throttle's counter: atomic across clients (here threads with their own
    connections), living `timeout` seconds from its first hit."""
    from concurrent.futures import ThreadPoolExecutor

    from config.cache import RedisCache

    cache = RedisCache("redis://127.0.0.1:6379/12", {"KEY_PREFIX": "test-hit"})
    cache.delete("window")
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda _: cache.hit("window", 30), range(400)))
    assert sorted(counts) == list(range(1, 401))  # no count lost, none given twice
    client = cache._cache.get_client("window")
    assert 0 < client.ttl(cache.make_and_validate_key("window")) <= 30
    assert cache.get("window") == 400  # an integer to Django's cache as well
    cache.delete("window")
