"""factory_boy factories for the objects that carry no cross-row rule.

Rows guarded by a rule (participations, allocations, plans, projects, money) are made
through the services in conftest helpers, so tests start from states the rules allow.
"""

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from countries.models import Country, Post, PostKind
from grants.models import FundYear, Partner, PartnerType, Sensitivity


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    password = factory.django.Password("test-password-123")


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


def country(code: str = "NL") -> Country:
    return Country.objects.get(code=code)


class FundYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundYear
        django_get_or_create = ["year"]

    year = 2026
    envelope = Decimal("10000000.00")
    plan_submission_deadline = factory.LazyAttribute(lambda o: date(o.year - 1, 11, 15))
    review_deadline = factory.LazyAttribute(lambda o: date(o.year - 1, 12, 15))
    min_project_size = Decimal("100000.00")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    code = factory.Sequence(lambda n: f"T-{n:03d}")
    name = factory.Sequence(lambda n: f"Test post {n}")
    kind = PostKind.BILATERAL
    city = "Teststad"
    host_country = factory.LazyFunction(lambda: country("KE"))


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    post = factory.SubFactory(PostFactory)
    name = factory.Sequence(lambda n: f"Partner {n}")
    partner_type = PartnerType.LOCAL_CSO
    country = factory.LazyFunction(lambda: country("KE"))
    sensitivity = Sensitivity.SENSITIVE
    cleared_for_publication = False
    # R11: cleared exactly when the ministry granted it (a database constraint).
    clearance = factory.LazyAttribute(
        lambda partner: "granted" if partner.cleared_for_publication else "not_requested"
    )
