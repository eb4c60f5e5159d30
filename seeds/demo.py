"""The demo world: fictional posts in fictional countries, built only through the services.

Everything here is illustrative (docs/domain.md, R11): the real list of participating posts is
confidential (R11) and is never shipped. Demo countries use ISO 3166's user-assigned codes
(AA, QM–QZ, XA–XZ, ZZ), which no real country has.

Why one module of ~590 lines: one story told in order (years, posts, selection, money,
plans, partners, projects, results, reports), each step building on the one before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from countries import services as country_services
from countries.models import (
    Country,
    Participation,
    Post,
    PostKind,
    PostMembership,
    PostRole,
    SelectionCriterion,
)
from fund.checks import MAX_BILATERAL_POSTS, MAX_MULTILATERAL_POSTS
from grants import selectors, services
from grants.models import (
    AnnualPlan,
    FundYear,
    Partner,
    PartnerType,
    PlanAim,
    PlanPriority,
    PlanStatus,
    Project,
    ProjectStatus,
    Sensitivity,
)
from grants.services import ChosenPriority
from priorities.models import Priority

DEMO_YEARS = (2025, 2026, 2027)
# A fund year in preparation: participants and allocations, no plans yet.
PREPARED_YEAR = 2028
PHASED_OUT_POSTS = 12  # DEMO-X…: in the fund in 2025 (the 84-post era), not from 2026
NATO = [
    "Alfa",
    "Bravo",
    "Charlie",
    "Delta",
    "Echo",
    "Foxtrot",
    "Golf",
    "Hotel",
    "India",
    "Juliett",
    "Kilo",
    "Lima",
    "Mike",
    "November",
    "Oscar",
    "Papa",
    "Quebec",
    "Romeo",
    "Sierra",
    "Tango",
    "Uniform",
    "Victor",
    "Whiskey",
    "X-ray",
    "Yankee",
    "Zulu",
    "Aurora",
    "Boreas",
    "Cirrus",
    "Dorado",
    "Eridanus",
    "Fornax",
    "Gemini",
    "Hydra",
    "Indus",
    "Lyra",
    "Mensa",
    "Norma",
    "Orion",
    "Pavo",
    "Ursa",
    "Vela",
]
DEMO_COUNTRY_CODES = (
    [f"X{c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    + [f"Q{c}" for c in "MNOPQRSTUVWXYZ"]
    + ["AA", "ZZ"]
)
PRIORITY_PAIRS = [
    ("women_girls", "lgbtiq"),
    ("expression", "defenders_civic_space"),
    ("religion_belief", "accountability"),
    ("defenders_civic_space", "women_girls"),
    ("lgbtiq", "expression"),
    ("accountability",),
    ("women_girls", "defenders_civic_space"),
]
PARTNER_TYPES = list(PartnerType.values)
ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = "demo-fonds-2026"  # printed by seed_demo; demo databases only
EUR = Decimal("0.01")
# Projects of the base demo world: 3 per current post, 1 per phased-out post, 1 cancelled
# on every sixth current post. --scale N adds N times this many.
DEMO_BASE_PROJECTS = 3 * (MAX_BILATERAL_POSTS + MAX_MULTILATERAL_POSTS) + PHASED_OUT_POSTS + 6


@dataclass
class SeedResult:
    created: bool
    posts: int = 0
    projects: int = 0


def _money(value) -> Decimal:
    return Decimal(value).quantize(EUR)


# DAC regions of the demo countries: some regions hold many demo posts, some few, so the IATI
# export shows both a narrow region and the fall-back to a wider one (R11).
DEMO_REGIONS = ["1027", "1030", "1027", "679", "1030", "789", "679", "489", "1027", "589",
                "789", "1032", "489", "619", "1033", "89"]  # fmt: skip


def demo_country(index: int) -> Country:
    code = DEMO_COUNTRY_CODES[index % len(DEMO_COUNTRY_CODES)]
    name = NATO[index % len(NATO)]
    country, _ = Country.objects.get_or_create(
        code=code,
        defaults={
            "name_nl": f"Demoland {name} (fictief)",
            "name_en": f"Demoland {name} (fictional)",
            "dac_region": DEMO_REGIONS[index % len(DEMO_REGIONS)],
        },
    )
    return country


def ensure_admin(*, password: str = DEMO_ADMIN_PASSWORD):
    """The demo superuser; created once, its password is never reset by a later run."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=ADMIN_USERNAME).first()
    if user is not None:
        return user, False
    user = user_model.objects.create_superuser(
        username=ADMIN_USERNAME, email="admin@demo.invalid", password=password
    )
    return user, True


def _posts_spec():
    for i in range(1, MAX_BILATERAL_POSTS + 1):
        yield f"DEMO-B{i:02d}", PostKind.BILATERAL, f"Demo-ambassade {NATO[i - 1]}"
    for i in range(1, MAX_MULTILATERAL_POSTS + 1):
        yield f"DEMO-M{i:02d}", PostKind.MULTILATERAL, f"Demo-PV multilateraal {i}"
    for i in range(1, PHASED_OUT_POSTS + 1):
        kind = PostKind.MULTILATERAL if i % 4 == 0 else PostKind.BILATERAL
        yield f"DEMO-X{i:02d}", kind, f"Demo-post uitgefaseerd {i}"


def demo_world_exists() -> bool:
    return Post.objects.filter(code="DEMO-B01").exists()


@transaction.atomic
def build_demo_world(*, actor) -> SeedResult:
    """Create the demo world once. Returns created=False (and changes nothing) if present."""
    if demo_world_exists():
        return SeedResult(created=False)
    priorities = {p.code: p for p in Priority.objects.all()}
    years = {}
    for year in DEMO_YEARS:
        years[year] = services.fund_year_save(
            actor=actor,
            fund_year=FundYear(
                year=year,
                envelope=_money(30_000_000 if year < 2026 else 36_000_000),
                plan_submission_deadline=date(year - 1, 11, 15),
                review_deadline=date(year - 1, 12, 15),
                report_deadline=date(year + 1, 3, 1),
                min_project_size=_money(100_000),
            ),
            history_import=year < 2026,
        )

    posts = []
    for index, (code, kind, name) in enumerate(_posts_spec()):
        country = demo_country(index)
        post = country_services.post_save(
            actor=actor,
            post=Post(
                code=code,
                kind=kind,
                name=name,
                city=f"Demostad {NATO[index % len(NATO)]}",
                host_country=country,
                is_demo=True,
            ),
            countries_covered=[country],
        )
        posts.append(post)
    current = [p for p in posts if not p.code.startswith("DEMO-X")]
    phased_out = [p for p in posts if p.code.startswith("DEMO-X")]

    # Participation and the R12 assessment. 2025: everyone (history); 2026–27: 31 + 5 (R1).
    criteria = list(SelectionCriterion.values)
    for post in posts:
        country_services.participation_set(
            actor=actor, post=post, fund_year=years[2025], selected=True, history_import=True
        )
    for year in (2026, 2027):
        for index, post in enumerate(posts):
            selected = post in current
            participation = country_services.participation_set(
                actor=actor,
                post=post,
                fund_year=years[year],
                selected=selected,
                decision_note="Geselecteerd (demo)." if selected else "Niet geselecteerd (demo).",
            )
            if selected and index % 3 == 0:
                # R11: a few posts' participation is public, so the IATI export names them.
                country_services.participation_publish(
                    actor=actor, participation=participation, published=True
                )
            if year == 2026:
                for offset, criterion in enumerate(criteria):
                    score = 3 + (index + offset) % 3 if selected else 1 + (index + offset) % 3
                    country_services.assessment_set(
                        actor=actor,
                        participation=participation,
                        criterion=criterion,
                        score=score,
                        note=f"Demo-onderbouwing: {SelectionCriterion(criterion).label.lower()}.",
                    )

    # Allocations (illustrative amounts: the letters give none per post).
    for index, post in enumerate(posts):
        for year in DEMO_YEARS:
            if year > 2025 and post in phased_out:
                continue
            base = 400_000 if year == 2025 else 700_000
            if post.kind == PostKind.MULTILATERAL:
                base -= 100_000
            services.allocation_set(
                actor=actor,
                post=post,
                fund_year=years[year],
                amount=_money(base + (index % 5) * 100_000),
                history_import=year < 2026,
            )

    # Annual plans with priorities. Statuses are set after projects exist (below).
    plans = {}
    for index, post in enumerate(posts):
        pair = PRIORITY_PAIRS[index % len(PRIORITY_PAIRS)]
        history_pair = PRIORITY_PAIRS[(index + 3) % len(PRIORITY_PAIRS)]
        for year in DEMO_YEARS:
            if year > 2025 and post in phased_out:
                continue
            history = year == 2025
            chosen = history_pair if history else pair
            allocation = post.allocations.get(fund_year=years[year]).amount
            share = _money(allocation * Decimal("0.9") / len(chosen))
            plan = services.plan_create(
                actor=actor,
                post=post,
                fund_year=years[year],
                narrative=f"Demo-jaarplan {year} van {post.name}.",
                history_import=history,
            )
            services.plan_priorities_set(
                actor=actor,
                plan=plan,
                items=[ChosenPriority(priorities[c], share) for c in chosen],
                history_import=history,
            )
            plans[(post.code, year)] = plan

    # Partners of every type, and projects: multi-year, a small one (R9 warning), history.
    project_count = 0
    for index, post in enumerate(posts):
        country = post.host_country
        partners = [
            services.partner_save(
                actor=actor,
                post=post,
                name=f"Demo-partner {post.code}-{n + 1}",
                partner_type=PARTNER_TYPES[(index + n) % len(PARTNER_TYPES)],
                country=country,
                sensitivity=list(Sensitivity.values)[(index + n) % 3],
                cleared_for_publication=(index + n) % 4 == 0,
            )
            for n in range(3)
        ]
        pair = PRIORITY_PAIRS[index % len(PRIORITY_PAIRS)]
        history_pair = PRIORITY_PAIRS[(index + 3) % len(PRIORITY_PAIRS)]
        first = priorities[pair[0]]
        second = priorities[pair[-1]]
        if post in phased_out:
            project = services.project_create(
                actor=actor,
                post=post,
                partner=partners[0],
                priority=priorities[history_pair[0]],
                title=f"Demo-project {post.code} 2025",
                start_date=date(2025, 1, 15),
                end_date=date(2025, 12, 31),
                status=ProjectStatus.COMPLETED,
                intended_results=list(priorities[history_pair[0]].intended_results.all()[:1]),
                budget={2025: _money(150_000)},
                history_import=True,
            )
            services.disbursement_create(
                actor=actor,
                project=project,
                date=date(2025, 3, 1),
                amount=_money(150_000),
                reference=f"DEMO-{post.code}-2025-1",
                history_import=True,
            )
            project_count += 1
            continue

        # Multi-year: a larger 2026–2027 project, committed.
        flagship = services.project_create(
            actor=actor,
            post=post,
            partner=partners[0],
            priority=first,
            title=f"Demo-programma {post.code}: meerjarig",
            description="Meerjarig, groter project (R9).",
            start_date=date(2026, 1, 1),
            end_date=date(2027, 12, 31),
            status=ProjectStatus.ACTIVE,
            intended_results=list(first.intended_results.all()[:2]),
            budget={2026: _money(250_000), 2027: _money(250_000)},
        )
        services.disbursement_create(
            actor=actor,
            project=flagship,
            date=date(2026, 2, 1),
            amount=_money(125_000),
            reference=f"DEMO-{post.code}-2026-1",
        )
        services.disbursement_create(
            actor=actor,
            project=flagship,
            date=date(2026, 9, 1),
            amount=_money(100_000),
            reference=f"DEMO-{post.code}-2026-2",
        )
        result = flagship.intended_results.first()
        indicator = services.indicator_save(
            actor=actor,
            project=flagship,
            intended_result=result,
            name="Aantal ondersteunde personen",
            unit="personen",
            baseline=Decimal("0"),
            target=Decimal(200 + index * 10),
        )
        services.indicator_value_set(
            actor=actor, indicator=indicator, year=2026, value=Decimal(80 + index), note="Demo."
        )
        # Second priority: committed 2026 project.
        services.project_create(
            actor=actor,
            post=post,
            partner=partners[1],
            priority=second,
            title=f"Demo-project {post.code}: {second.code}",
            start_date=date(2026, 3, 1),
            end_date=date(2026, 12, 31),
            status=ProjectStatus.ACTIVE,
            intended_results=list(second.intended_results.all()[:1]),
            budget={2026: _money(150_000)},
        )
        # A small planned one, which R9 reports as fragmentation.
        services.project_create(
            actor=actor,
            post=post,
            partner=partners[2],
            priority=first,
            title=f"Demo-klein project {post.code}",
            start_date=date(2027, 1, 1),
            end_date=date(2027, 6, 30),
            status=ProjectStatus.PLANNED,
            budget={2027: _money(40_000)},
        )
        project_count += 3
        if index % 6 == 0:
            project = services.project_create(
                actor=actor,
                post=post,
                partner=partners[1],
                priority=first,
                title=f"Demo-project {post.code} 2026 (geannuleerd)",
                start_date=date(2026, 5, 1),
                end_date=date(2026, 10, 31),
                status=ProjectStatus.PLANNED,
                budget={2026: _money(30_000)},
            )
            services.project_update(actor=actor, project=project, status=ProjectStatus.CANCELLED)
            project_count += 1

    # Plan cycle (R10): 2025 approved (history); 2026 approved, a few amending; 2027 mixed.
    for (code, year), plan in plans.items():
        number = int(code[-2:]) + (0 if code[5] == "B" else 40)
        if year == 2025:
            services.plan_submit(actor=actor, plan=plan, history_import=True)
            services.plan_approve(actor=actor, plan=plan, history_import=True)
            continue
        if year == 2026:
            steps = ["submit", "approve"] + (["amend"] if number % 8 == 0 else [])
        else:
            steps = [
                [],
                ["submit"],
                ["submit", "return"],
                ["submit", "approve"],
                ["submit", "approve", "amend"],
            ][number % 5]
        for step in steps:
            comment = (
                "Demo: graag de toelichting per prioriteit aanvullen."
                if step
                in (
                    "return",
                    "amend",
                )
                else ""
            )
            services.plan_transition(actor=actor, plan=plan, action=step, comment=comment)

    # Annual reports on 2026 (R10, R13): some posts report back already, so the review queue
    # and the side-by-side page have something to show; the rest is still to come.
    for (code, year), plan in plans.items():
        number = int(code[-2:]) + (0 if code[5] == "B" else 40)
        plan.refresh_from_db()
        if year != 2026 or plan.status != PlanStatus.APPROVED or number % 5 == 0:
            continue
        report = services.annual_report_create(
            actor=actor,
            post=plan.post,
            fund_year=plan.fund_year,
            summary=f"Demo: de post {code} blikt terug op 2026.",
        )
        aims = PlanAim.objects.filter(plan_priority__plan=plan).select_related("intended_result")
        services.annual_report_update(
            actor=actor,
            report=report,
            progress={
                aim.intended_result: f"Demo: voortgang op '{aim.intended_result.text_nl}'."
                for aim in aims
            },
        )
        steps = [[], ["submit"], ["submit", "accept"], ["submit", "return"]][number % 4]
        for step in steps:
            comment = "Demo: graag de cijfers per indicator toelichten." if step == "return" else ""
            services.annual_report_transition(
                actor=actor, report=report, action=step, comment=comment
            )

    # The next year is being prepared: posts selected and allocated, no plans or projects
    # yet (the README's API walkthrough drafts one). One bilateral and one multilateral place
    # are still open: the sample files of docs/import/ fill them.
    next_year = services.fund_year_save(
        actor=actor,
        fund_year=FundYear(
            year=PREPARED_YEAR,
            envelope=_money(36_000_000),
            plan_submission_deadline=date(PREPARED_YEAR - 1, 11, 15),
            review_deadline=date(PREPARED_YEAR - 1, 12, 15),
            min_project_size=_money(100_000),
        ),
    )
    open_places = {"DEMO-B31", "DEMO-M05"}
    for index, post in enumerate(posts):
        if post in phased_out or post.code in open_places:
            continue
        country_services.participation_set(
            actor=actor,
            post=post,
            fund_year=next_year,
            selected=True,
            decision_note="Geselecteerd (demo).",
        )
        base = 600_000 if post.kind == PostKind.MULTILATERAL else 700_000
        services.allocation_set(
            actor=actor,
            post=post,
            fund_year=next_year,
            amount=_money(base + (index % 5) * 100_000),
        )

    # Embassy demo users for the API (R11 scoping).
    user_model = get_user_model()
    for post_code, role in (("DEMO-B01", PostRole.EDITOR), ("DEMO-M01", PostRole.VIEWER)):
        username = f"embassy-{post_code.lower()}"
        user = user_model.objects.create_user(
            username=username, email=f"{username}@demo.invalid", password=DEMO_ADMIN_PASSWORD
        )
        PostMembership.objects.create(user=user, post=Post.objects.get(code=post_code), role=role)

    return SeedResult(created=True, posts=len(posts), projects=project_count)


def add_synthetic_projects(*, actor, count: int, progress=None, batch_size: int = 2000) -> int:
    """Add `count` small planned 2026–2027 projects spread over the 2026 participants.

    They go through services.projects_bulk_create, so R4–R7, R9 and R11 are checked for each
    and the allocation (R5) for each batch as a whole; amounts are sized to the headroom.
    """
    participants = list(
        Post.objects.filter(
            participations__fund_year__year=2026, participations__selected=True
        ).filter(participations__fund_year__year=2027, participations__selected=True)
    )
    if not participants or count <= 0:
        return 0
    per_post = math.ceil(count / len(participants))
    created = 0
    run = Project.objects.count()
    for post in participants:
        todo = min(per_post, count - created)
        if todo <= 0:
            break
        partner = Partner.objects.filter(post=post).order_by("pk").first()
        chosen_2026 = set(
            PlanPriority.objects.filter(plan__post=post, plan__fund_year__year=2026).values_list(
                "priority_id", flat=True
            )
        )
        chosen = PlanPriority.objects.filter(
            plan__post=post, plan__fund_year__year=2027, priority_id__in=chosen_2026
        ).select_related("priority")
        priority = chosen.first().priority if chosen.exists() else None
        if partner is None or priority is None:
            continue
        headroom = min(
            _headroom(post, 2026),
            _headroom(post, 2027),
        )
        amount = (headroom / todo).quantize(EUR, rounding=ROUND_DOWN)
        if amount <= 0:
            continue
        for batch_start in range(0, todo, batch_size):
            size = min(batch_size, todo - batch_start)
            specs = [
                services.ProjectSpec(
                    partner=partner,
                    priority=priority,
                    title=f"Synthetisch project {post.code} #{run + batch_start + n + 1}",
                    start_date=date(2026, 1, 1),
                    end_date=date(2027, 12, 31),
                    budget={2026: amount, 2027: amount},
                )
                for n in range(size)
            ]
            services.projects_bulk_create(actor=actor, post=post, specs=specs)
            created += size
            if progress is not None:
                progress.update(size)
        run += todo
    return created


def _headroom(post: Post, year: int) -> Decimal:
    return selectors.post_year_headroom(post=post, year=year)


def demo_summary() -> dict[str, int]:
    return {
        "posts": Post.objects.filter(is_demo=True).count(),
        "participants_2026": Participation.objects.filter(
            fund_year__year=2026, selected=True
        ).count(),
        "plans": AnnualPlan.objects.count(),
        "projects": Project.objects.count(),
    }
