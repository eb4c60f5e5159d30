"""Reference data of R3 and R13, as in docs/domain.md §3 (Dutch texts from the annex of the
2023 policy note Mensenrechten, Democratie en Internationale Rechtsorde)."""

from .models import Theme

PRIORITIES = [
    # code, Dutch name, English name, is the +1, theme
    ("women_girls", "Gelijke rechten voor vrouwen en meisjes",
     "Equal rights for women and girls", False, Theme.HUMAN_RIGHTS),
    ("lgbtiq", "Gelijke rechten voor lhbtiq+-personen",
     "Equal rights for LGBTIQ+ persons", False, Theme.HUMAN_RIGHTS),
    ("religion_belief", "Vrijheid van religie en levensovertuiging",
     "Freedom of religion or belief", False, Theme.HUMAN_RIGHTS),
    ("expression", "Vrijheid van meningsuiting online en offline",
     "Freedom of expression online and offline", False, Theme.HUMAN_RIGHTS),
    ("defenders_civic_space",
     "Bescherming van mensenrechtenverdedigers en maatschappelijke ruimte",
     "Protection of human rights defenders and civic space", False, Theme.HUMAN_RIGHTS),
    ("accountability", "Accountability / strijd tegen straffeloosheid",
     "Accountability / fight against impunity", True, Theme.INTERNATIONAL_LEGAL_ORDER),
]  # fmt: skip

INTENDED_RESULTS = {
    "women_girls": [
        ("violence", "Afname van geweld tegen vrouwen en meisjes in het openbare en privéleven",
         "Fewer cases of violence against women and girls in public and private life"),
        ("peace_security",
         "De versterking van de rol van vrouwen in conflictpreventie en vredesopbouw en "
         "bescherming in conflictsituaties",
         "A stronger role for women in conflict prevention and peace-building and protection "
         "in conflict"),
        ("srhr",
         "De seksuele en reproductieve rechten van alle mensen worden institutioneel en breed "
         "in de samenleving gerespecteerd en beschermd",
         "Sexual and reproductive rights of all people respected and protected institutionally "
         "and broadly in society"),
    ],
    "lgbtiq": [
        ("decriminalisation",
         "Minder landen waar seksuele oriëntatie en/of genderidentiteit strafbaar zijn",
         "Fewer countries where sexual orientation and/or gender identity is criminalised"),
        ("discrimination",
         "Een wereldwijde afname van discriminatie en geweld tegen lhbtiq+-personen",
         "A global decrease of discrimination and violence against LGBTIQ+ persons"),
        ("acceptance", "Een wereldwijde toename van sociale acceptatie van lhbtiq+-personen",
         "A global increase in social acceptance of LGBTIQ+ persons"),
    ],
    "religion_belief": [
        ("persecution", "Afname van vervolging en discriminatie van religieuze minderheden",
         "Less persecution and discrimination of religious minorities"),
        ("negative_images", "Afname van negatieve beeldvorming van religies in conflicten",
         "Fewer negative images of religions in conflicts"),
        ("sdgs",
         "Het versterken van de rol van religie en religieuze actoren bij het bereiken van de "
         "SDG's",
         "A stronger role for religion and religious actors in reaching the SDGs"),
    ],
    "expression": [
        ("prevention", "Voorkomen van aanvallen op en belemmeringen voor journalisten en "
         "mediawerkers",
         "Attacks on and obstruction of journalists and media workers prevented"),
        ("protection", "Journalisten en mediawerkers in nood worden beschermd",
         "Journalists and media workers in need are protected"),
        ("accountability", "Accountability voor aanvallen op journalisten en mediawerkers",
         "Accountability for attacks on journalists and media workers"),
    ],
    "defenders_civic_space": [
        ("prevention", "Voorkomen van aanvallen op en belemmeringen voor "
         "mensenrechtenverdedigers",
         "Attacks on and obstruction of human rights defenders prevented"),
        ("protection", "Mensenrechtenverdedigers in nood worden beschermd",
         "Human rights defenders in need are protected"),
        ("accountability", "Accountability voor aanvallen op mensenrechtenverdedigers",
         "Accountability for attacks on human rights defenders"),
    ],
    # No annex row; drawn from the 2023 policy note, Doelstelling III (docs/domain.md §3).
    "accountability": [
        ("perpetrators", "Verantwoordelijken voor de ernstigste schendingen ter verantwoording "
         "geroepen",
         "Those responsible for the gravest violations held to account"),
        ("evidence", "Bewijs van ernstige schendingen gedocumenteerd",
         "Evidence of grave violations documented"),
        ("victims", "Slachtoffers en overlevenden geholpen om gerechtigheid te verkrijgen",
         "Victims and survivors helped to obtain justice"),
    ],
}  # fmt: skip


def load_reference_data(priority_model, result_model) -> None:
    """Create or update the 5+1 priorities and their intended results (idempotent)."""
    for position, (code, name_nl, name_en, plus_one, theme) in enumerate(PRIORITIES, start=1):
        priority, _ = priority_model.objects.update_or_create(
            code=code,
            defaults={
                "name_nl": name_nl,
                "name_en": name_en,
                "is_plus_one": plus_one,
                "theme": str(theme),
                "position": position,
            },
        )
        for result_position, (slug, text_nl, text_en) in enumerate(INTENDED_RESULTS[code], start=1):
            result_model.objects.update_or_create(
                code=f"{code}.{slug}",
                defaults={
                    "priority": priority,
                    "text_nl": text_nl,
                    "text_en": text_en,
                    "position": result_position,
                },
            )
