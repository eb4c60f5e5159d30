"""The shared cache's backend: Django's Redis backend, holding its redis-py client.

Django's client makes a new `redis.Redis` object for every call (about 0.1 ms on this kind of
machine) and every request pays it several times: the API's throttle, the read log's terms
version (readlog.selectors), the idempotency keys. A `redis.Redis` object is safe to share:
its connection pool hands each command a connection and, after a fork, starts afresh."""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class HeldClientRedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """`CACHE_URL=redis://…` selects it (config.settings)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = HeldClientRedisCacheClient

    def hit(self, key: str, timeout: int) -> int:
        """One more on a counter that lives `timeout` seconds from its first hit; its new value.
        One round trip (SET NX EX and INCR in a pipeline) and atomic: requests to several
        servers at the same moment are all counted (the API's throttle)."""
        key = self.make_and_validate_key(key)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=False)
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incr(key)
        return pipeline.execute()[1]
