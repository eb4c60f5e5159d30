"""What the API's views share: pagination, scoping to the caller's post (R11), lookup by
public id, the cycle documents' create/update/step plumbing (R10), and the problem answer
for an unknown path.
"""

from __future__ import annotations

from django import forms
from django.core.paginator import InvalidPage, Page
from django.core.paginator import Paginator as DjangoPaginator
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.constants import EMPTY_VALUES
from django_filters.utils import translate_validation
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import APIView

from countries.models import PostMembership
from fund.access import Action, profile_of
from fund.renderers import PreRendered
from grants.api import serializers as s
from grants.api.base import IsPostUser, PostUserThrottle, caller_post
from grants.models import (
    FundYear,
)


class ApiPagination(PageNumberPagination):
    """50 per page by default; `page_size` up to 100 (larger asks get 100)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def page_number(self, request) -> int:
        """The asked page: plain digits from 1 (a 400 otherwise), 1 when not asked."""
        page = request.query_params.get(self.page_query_param)
        if page is not None and not (page.isascii() and page.isdigit() and int(page) > 0):
            raise ValidationError({"page": [_("Give a page number from 1.")]})
        return int(page or 1)

    def paginate_queryset(self, queryset, request, view=None):
        number = self.page_number(request)
        page_size = self.get_page_size(request)
        if page_size and number == 1:
            return self._first_page(queryset, request, page_size)
        return super().paginate_queryset(queryset, request, view)

    def _first_page(self, queryset, request, page_size):
        """The first page, read with one row more than it shows: without that row the page is
        all there is, and its length is the count — no count query. (Most of an embassy's
        lists fit on one page: its plans, reports, partners.)"""
        self.request = request
        rows = list(queryset[: page_size + 1])
        paginator = self.django_paginator_class(queryset, page_size)
        if len(rows) <= page_size:
            paginator.count = len(rows)  # in place of the cached property's count query
        self.page = Page(rows[:page_size], 1, paginator)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)

    def json_page(self, request, build):
        """A page whose items the database writes as JSON (grants.api.pages):
        `build(limit, offset)` gives the count of all rows and the page's JSON text, in one
        statement. The page number and size are checked as for any other page."""
        number = self.page_number(request)
        page_size = self.get_page_size(request)
        # Past any count, an offset beyond PostgreSQL's bigint would be an error, not a 404.
        count, items = build(page_size, min((number - 1) * page_size, 2**62))
        paginator = DjangoPaginator([], page_size)
        paginator.count = count  # in place of the cached property's count query
        try:
            paginator.validate_number(number)
        except InvalidPage as exc:
            message = self.invalid_page_message.format(page_number=number, message=str(exc))
            raise NotFound(message) from exc
        self.request = request
        self.page = Page([], number, paginator)
        return self.get_paginated_response(PreRendered(items))

    def get_page_size(self, request):
        asked = request.query_params.get(self.page_size_query_param)
        if asked is not None and not (asked.isascii() and asked.isdigit() and int(asked) > 0):
            raise ValidationError({"page_size": [_("Give a whole number from 1 to 100.")]})
        return super().get_page_size(request)


class NamedSearchFilter(SearchFilter):
    """DRF's search, whose refusal of a term (a NUL character) names the `search` field."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as error:
            raise ValidationError({self.search_param: error.detail}) from error


class PostApiMixin:
    """Only post users (IsPostUser), throttled per user, scoped to the caller's post."""

    permission_classes = [IsPostUser]
    throttle_classes = [PostUserThrottle]
    pagination_class = ApiPagination
    write_action: Action | None = None
    # The services name some inputs as the models do; the API's names for them.
    error_field_aliases = {"fund_year": "year"}

    @property
    def own_post(self):
        return caller_post(self.request)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return self.queryset
        return self.scoped_queryset()

    def scoped_queryset(self):
        return self.queryset

    def filter_values(self, request) -> dict:
        """The list's filters as its FilterSet validates them (a 400 as DjangoFilterBackend
        gives it), without building a query set; empty values left out, as django-filter
        leaves them out. Without any of its parameters the FilterSet is not even built."""
        filterset_class = self.filterset_class
        if filterset_class is None or not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return {}
        backend = filters.DjangoFilterBackend()
        filterset = backend.get_filterset(request, self.queryset.none(), self)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return {
            name: value
            for name, value in filterset.form.cleaned_data.items()
            if value not in EMPTY_VALUES
        }

    def search_terms(self, request) -> list[str]:
        return NamedSearchFilter().get_search_terms(request)

    def ordering_terms(self, request) -> list[str]:
        """DRF's OrderingFilter's choice: the asked fields among `ordering_fields`, else the
        view's `ordering`."""
        return list(OrderingFilter().get_ordering(request, self.queryset.none(), self))


class ByPublicId:
    """Objects are addressed by their public UUID (`{id}`), never by a database key."""

    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"


def with_post_user_flag(steps, post_path: str):
    """Steps of a cycle, each with `by_post_user`: whether its actor is a user of the
    document's post (`post_path`, e.g. "plan__post"), read with them rather than by a query
    of the post's members (CycleTransitionSerializer names such a user, R11)."""
    members = PostMembership.objects.filter(post=OuterRef(post_path), user=OuterRef("actor"))
    return steps.annotate(by_post_user=Exists(members))


class CycleDocumentMixin:
    """Plans and annual reports (R10): their steps name the post's own users, their writes
    validate input with a serializer of their own, and they are submitted the same way."""

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "user", None) and profile_of(self.request.user).is_post_user:
            post = self.own_post
            # Read when a step is shown, not for a list or answer that shows none.
            context["post_user_ids"] = SimpleLazyObject(
                lambda: set(
                    PostMembership.objects.filter(post=post).values_list("user_id", flat=True)
                )
            )
        return context

    @staticmethod
    def _fund_year(data) -> FundYear:
        """The fund year the new document is for; one the fund does not have is invalid input."""
        fund_year = FundYear.objects.filter(year=data["year"]).first()
        if fund_year is None:
            raise ValidationError({"year": [_("There is no fund year %(year)s.") % data]})
        return fund_year

    def _valid(self, serializer_class, data, *, partial=False):
        serializer = serializer_class(
            data=data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def submit_document(self, request, submit):
        """The post hands its document in (R10): under its post's lock, the comment checked,
        an `If-Match` honoured when sent, then `submit(actor, document, comment)` — the
        document's own service — in the same transaction."""
        with transaction.atomic():
            document = self.locked_for_write()
            data = self._valid(s.PlanSubmitSerializer, request.data)
            if request.headers.get("If-Match"):
                self.check_if_match(document)
            submit(request.user, document, data.get("comment", ""))
        return self.respond_with(self.get_object())


class YearFilter(filters.NumberFilter):
    """A whole calendar year; anything else is a 400, not an empty list."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=2000, max_value=2100, **kwargs)


class NotFoundView(APIView):
    """Any other path under /api/v1/: a problem document, not Django's HTML page."""

    permission_classes = [IsPostUser]
    throttle_classes = [PostUserThrottle]
    schema = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound()
