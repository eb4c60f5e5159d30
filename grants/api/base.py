"""What every embassy endpoint shares: who may call it, strict input, ETags and idempotency.

Access is the policy's (fund.access): the API only asks it. Writes call the services, which
check every rule again as the calling user.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from countries.models import Post
from fund.access import can, own_post_of, profile_of
from fund.api import IdempotencyKeyReused, PreconditionFailed, PreconditionRequired
from grants.models import IdempotentRequest

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class IsPostUser(permissions.BasePermission):
    """The embassy API is for post users only (R11): ministry staff work in the admin. A
    write needs the policy's permission for the view's action on the caller's own post, so a
    viewer is refused (403) before any object is looked up."""

    message = _("The embassy API is for the staff of a post; ministry staff use the admin.")

    def has_permission(self, request, view) -> bool:
        profile = profile_of(request.user)
        if not profile.is_post_user:
            return False
        action = getattr(view, "write_action", None)
        # Views without writes answer 404/405 themselves: the role only matters for a write.
        writes = request.method in UNSAFE_METHODS and action is not None
        if writes and not can(request.user, action, profile.post_id):
            self.message = _("Your role at the post only allows reading.")
            return False
        return True


class PostUserThrottle(UserRateThrottle):
    """Per-user request rate (429 beyond it); the rate is a setting so operators can tune it.

    Counted per window of the rate's period (e.g. each clock minute for "600/minute") in one
    counter per user and window, raised atomically in the shared cache. DRF's own throttle
    keeps a list of the times of all the window's requests, reads and rewrites it whole on
    every request (600 items at 600 a minute) and loses a count when two servers rewrite it
    at once; this costs the same at any rate and counts every request."""

    def get_rate(self):
        return settings.API_USER_THROTTLE_RATE

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        count = _hit(self.cache, f"{self.key}:{window}", self.duration)
        self.retry_after = (window + 1) * self.duration - now
        return count <= self.num_requests

    def wait(self):
        return self.retry_after


def _hit(cache, key: str, timeout: int) -> int:
    """The cache's atomic counter (config.cache.RedisCache.hit), or Django's add and incr."""
    if hasattr(cache, "hit"):
        return cache.hit(key, timeout)
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two
        cache.add(key, 1, timeout)
        return 1


def caller_post(request) -> Post:
    """The post of the calling embassy user (read with their profile, once per request)."""
    return own_post_of(request.user)


# Plain ASCII digits only: Python reads "1_000", Arabic-Indic or full-width digits and "2028-1-1"
# as numbers and dates, which no embassy tool means to send and no file of the fund should
# echo back in another form than it was given.
DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class StrictDecimalField(serializers.DecimalField):
    """A decimal as a JSON number or as plain digits with an optional point ("1250.50")."""

    default_error_messages = {
        "plain": _("Give the amount as digits 0-9 with a decimal point, e.g. 1250.50."),
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and not DECIMAL_TEXT.fullmatch(data.strip()):
            self.fail("plain")
        return super().to_internal_value(data)


class StrictDateField(serializers.DateField):
    """A date as YYYY-MM-DD in ASCII digits, nothing else (ISO 8601's calendar date)."""

    default_error_messages = {"plain": _("Give the date as YYYY-MM-DD, e.g. 2028-01-01.")}

    def to_internal_value(self, value):
        if isinstance(value, str) and not DATE_TEXT.fullmatch(value):
            self.fail("plain")
        return super().to_internal_value(value)


class StrictSerializer(serializers.Serializer):
    # Rejects fields it does not know instead of ignoring them, so that a misspelt field is an
    # error and not a silent no-op. Read-only fields it shows (id, totals, timestamps) may be
    # sent back as read and are ignored. (A comment, not a docstring: drf-spectacular would
    # show a docstring as the description of every schema built on this class.)

    # A model's dates and decimals are read as strictly as the declared ones.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: StrictDateField,
        models.DecimalField: StrictDecimalField,
    }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail(_("Unknown field."), code="unknown_field")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


# --- ETag / If-Match ----------------------------------------------------------------------------


def etag_of(data) -> str:
    """A strong ETag of a representation: any visible change changes it."""
    rendered = JSONRenderer().render(data)
    return '"' + hashlib.sha256(rendered).hexdigest()[:32] + '"'


def _listed_tags(header: str, *, weak: bool) -> list[str]:
    """The entity tags of an If-Match (strong comparison: a weak tag never matches) or
    If-None-Match (weak comparison) header (RFC 9110 §13.1)."""
    tags = [tag.strip() for tag in header.split(",") if tag.strip()]
    if weak:
        return [tag.removeprefix("W/") for tag in tags]
    return [tag for tag in tags if not tag.startswith("W/")]


class ETagMixin:
    """GET answers with an ETag (and 304 to a matching If-None-Match); PUT, PATCH and DELETE
    need `If-Match` with the current ETag: 428 without it, 412 when someone changed the object
    since. The check runs under the post's row lock, in the write's transaction, so two
    colleagues holding the same ETag cannot both write."""

    def representation(self, instance):
        return self.get_serializer(instance).data

    def respond_with(self, instance, *, status_code=status.HTTP_200_OK, headers=None):
        data = self.representation(instance)
        headers = {"ETag": etag_of(data), **(headers or {})}
        return Response(data, status=status_code, headers=headers)

    def created(self, instance, *, key):
        """201 with the new object, its ETag and its URL (`key` is its last path part)."""
        location = self.request.build_absolute_uri(f"{key}/")
        return self.respond_with(
            instance, status_code=status.HTTP_201_CREATED, headers={"Location": location}
        )

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        data = self.representation(instance)
        tag = etag_of(data)
        if tag in _listed_tags(request.headers.get("If-None-Match", ""), weak=True):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        return Response(data, headers={"ETag": tag})

    def locked_for_write(self):
        """The object under its post's lock, in the caller's transaction: another post's
        object is 404 before anything else. Check If-Match on it (`check_if_match`) once the
        input is known to be valid, so that a bad request is 400 whatever its ETag."""
        instance = self.get_object()
        Post.objects.select_for_update().filter(pk=self.post_id_of(instance)).first()
        return self.get_object()  # as it is now that nobody else can change it

    def post_id_of(self, instance) -> int:
        return instance.post_id

    def check_if_match(self, instance) -> None:
        header = self.request.headers.get("If-Match")
        if not header:
            raise PreconditionRequired()
        if header.strip() == "*":
            return
        if etag_of(self.representation(instance)) not in _listed_tags(header, weak=False):
            raise PreconditionFailed()


# --- Idempotency-Key --------------------------------------------------------------------------

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


def idempotent(handler):
    """Make a POST handler safe to retry: with an `Idempotency-Key` header, the first
    successful response is stored with the key (in the same transaction as the write) and a
    retry with the same key and body gets it again instead of a second object. The same key
    with another body is refused (422). Two simultaneous first tries: the database's unique
    key lets one commit; the other's write is rolled back and it answers the stored result."""

    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return handler(self, request, *args, **kwargs)
        if not _KEY.match(key):
            raise serializers.ValidationError(
                {"Idempotency-Key": [_("Use 1 to 255 printable characters without spaces.")]}
            )
        body = json.dumps(request.data, sort_keys=True, default=str)
        fingerprint = hashlib.sha256(
            f"{request.method} {request.path}\n{body}".encode()
        ).hexdigest()
        # Keys are kept for a day: enough for any retry, and the table stays small.
        expired = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_KEY_HOURS)
        IdempotentRequest.objects.filter(user=request.user, created_at__lt=expired).delete()
        with transaction.atomic():
            # One keyed write per user at a time: a retry sent while the first try still runs
            # waits for it here and then replays its result, instead of racing it.
            user_model = get_user_model()
            user_model.objects.select_for_update().filter(pk=request.user.pk).first()
            stored = _stored(request.user, key, fingerprint)
            if stored is not None:
                return stored
            response = handler(self, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                IdempotentRequest.objects.create(
                    user=request.user,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    response_body=json.loads(JSONRenderer().render(response.data) or "null"),
                    location=response.get("Location", ""),
                    etag=response.get("ETag", ""),
                )
        return response

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


def _stored(user, key: str, fingerprint: str) -> Response | None:
    stored = IdempotentRequest.objects.filter(user=user, key=key).first()
    if stored is None:
        return None
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    headers = {"Idempotent-Replayed": "true"}
    if stored.location:
        headers["Location"] = stored.location
    if stored.etag:
        headers["ETag"] = stored.etag
    return Response(stored.response_body, status=stored.status_code, headers=headers)
