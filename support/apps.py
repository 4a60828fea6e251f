from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers the system checks)
        from .staff import on_post_migrate

        # After Django's own post_migrate handlers (connected by apps listed earlier), so
        # the permissions the group needs exist.
        post_migrate.connect(on_post_migrate, sender=self)
