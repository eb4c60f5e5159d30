"""The read log's middleware, switched off for a request that asks (bench only).

`bench/admin_pages.py --servers` asks one server for each page twice in turn, once with the
header `X-Bench-Without-Readlog: 1`: the same process, heap and processor serve both, so the
difference is the read log's alone. (Two servers, one with and one without, differed by up to
10 % even when both had the read log: the machine places each process differently.)

Every response with the read log also says, in `X-Bench-Readlog-Ms`, how long its own work
took: reading the response and writing its insert (`readlog.services.detected` and `flush`,
timed here from outside). On a busy 2-core machine the ratio of two medians moves by several
per cent from run to run; this figure does not depend on the other requests. The timing
adds no frame above the view. The switch itself is one frame above both ways, so both run one
frame deeper than production, and they differ by the read log's frame, as production with and
without it would (on CPython 3.11 one frame more can move a page onto a slow edge of the
interpreter's frame stack: docs/performance.md, "The read log's cost")."""

import time

from readlog import services
from readlog.middleware import ReadLogMiddleware

_SPENT = "bench_readlog_seconds"


def _timed(function):
    def timed(request, *args):
        started = time.perf_counter()
        try:
            return function(request, *args)
        finally:
            spent = getattr(request, _SPENT, 0.0) + time.perf_counter() - started
            setattr(request, _SPENT, spent)

    return timed


services.detected = _timed(services.detected)
services.flush = _timed(services.flush)


class SwitchableReadLog:
    def __init__(self, get_response):
        self.without = get_response
        self.with_readlog = ReadLogMiddleware(get_response)

    def __call__(self, request):
        if request.headers.get("X-Bench-Without-Readlog") == "1":
            return self.without(request)
        response = self.with_readlog(request)
        response["X-Bench-Readlog-Ms"] = f"{getattr(request, _SPENT, 0.0) * 1000:.3f}"
        return response
