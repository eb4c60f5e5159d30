"""The read log's middleware, switched off for a request that asks (bench only).

`bench/admin_pages.py --servers` asks one server for each page twice in turn, once with the
header `X-Bench-Without-Readlog: 1`: the same process, heap and processor serve both, so the
difference is the read log's alone. (Two servers, one with and one without, differed by up to
10 % even when both had the read log: the machine places each process differently.)"""

from readlog.middleware import ReadLogMiddleware


class SwitchableReadLog:
    def __init__(self, get_response):
        self.without = get_response
        self.with_readlog = ReadLogMiddleware(get_response)

    def __call__(self, request):
        if request.headers.get("X-Bench-Without-Readlog") == "1":
            return self.without(request)
        return self.with_readlog(request)
