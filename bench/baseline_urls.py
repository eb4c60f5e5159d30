"""Root URLconf for bench/api.py: every project URL, plus a constant DRF endpoint.

`bench/constant/<list>/` authenticates like the embassy API (knox token, IsAuthenticated) but
does no query beyond the token lookup and no throttling: it answers the JSON document that
bench/api.py captured from the real list endpoint and wrote to `<list>.json` in the directory
named by the environment variable BENCH_CONSTANT_DIR. The document is parsed once to Python
objects and rendered by DRF on every request, so rendering costs the same as for the real
endpoint.
"""

import functools
import json
import os
from pathlib import Path

from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.authentication import FundTokenAuthentication
from config.urls import urlpatterns as project_urlpatterns


@functools.cache
def _payload(name: str):
    return json.loads((Path(os.environ["BENCH_CONSTANT_DIR"]) / f"{name}.json").read_bytes())


class ConstantView(APIView):
    authentication_classes = [FundTokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = []

    def get(self, request, name):
        return Response(_payload(name))


urlpatterns = [
    *project_urlpatterns,
    path("bench/constant/<slug:name>/", ConstantView.as_view(), name="bench-constant"),
]
