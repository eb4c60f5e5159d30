from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project's own checks (config.checks); no models."""

    name = "config"
    label = "fund_config"
    verbose_name = "Configuration"

    def ready(self):
        from . import checks  # noqa: F401  (registers the checks)
