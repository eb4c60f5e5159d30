"""Texts of third-party packages shown on the ministry's screens that their own catalogues
leave untranslated in Dutch (django-simple-history has no Dutch at all; django-import-export's
is incomplete). Listed here so that `makemessages` puts them in our catalogue, which Django
reads first (LOCALE_PATHS). Nothing imports this module."""

from django.utils.translation import gettext_noop

MESSAGES = [
    # django-simple-history (the audit trail's pages)
    gettext_noop("Change history: %s"),
    gettext_noop("View history: %s"),
    gettext_noop("View %s"),
    gettext_noop("View %(verbose_name)s"),
    gettext_noop("Created"),
    gettext_noop("Changed"),
    gettext_noop("Deleted"),
    gettext_noop("This object doesn't have a change history."),
    gettext_noop("Object"),
    gettext_noop("Date/time"),
    gettext_noop("Comment"),
    gettext_noop("Changed by"),
    gettext_noop("Change reason"),
    gettext_noop("None"),
    gettext_noop("Changes"),
    # django-import-export
    gettext_noop("Import finished: {} new, {} updated, {} deleted and {} skipped {}."),
    gettext_noop("This exporter will export the following fields: "),
]
