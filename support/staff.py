"""The "Support staff" group: what a support agent may do in the admin, and no more.

The group is made after every `migrate` (post_migrate, right after Django creates the
permissions it refers to), so it exists on a new database, after `flush`, and gains any
permission a later version of this list adds. Permissions a site adds to the group by
hand are kept; none is ever removed.
"""

from django.db import DEFAULT_DB_ALIAS

GROUP = "Support staff"
PERMISSIONS = [
    "view_ticket", "change_ticket",                # the list, the page, reply, note, status
    "view_account",                                # the accounts list and pages
    "view_apikey", "add_apikey", "change_apikey",  # see, make and revoke API keys
    "view_delivery", "change_delivery",            # see and retry e-mail and forwarding
]  # fmt: skip


def ensure_group(*, apps=None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the group with PERMISSIONS, or add those it lacks."""
    if apps is None:
        from django.apps import apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return  # django.contrib.auth is not installed: no groups
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="support", codename__in=PERMISSIONS
    )
    group, _created = Group.objects.using(using).get_or_create(name=GROUP)
    group.permissions.add(*permissions)


def on_post_migrate(sender, *, apps=None, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    ensure_group(apps=apps, using=using)
