import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from ... import keys
from ...models import ApiKey


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines too) as one space: one row per key."""
    return " ".join(text.split())


class Command(BaseCommand):
    help = "Make, list and revoke API keys. A new key is printed once, alone on the last line."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="Make a key.")
        kind = create.add_mutually_exclusive_group(required=True)
        kind.add_argument("--account-id", type=uuid.UUID, help="The account the key acts for.")
        kind.add_argument(
            "--service", action="store_true", help="A key for the site's back end: any account."
        )
        create.add_argument("--name", default="", help="What the key is for.")
        create.add_argument(
            "--import-key",
            metavar="SECRET",
            help="Store an existing secret (e.g. from a previous system) instead of a new one.",
        )
        create.add_argument(
            "--replace",
            action="store_true",
            help="Revoke the active keys of the same name for the same account (or the "
            "same name among service keys): the new key takes their place.",
        )
        listing = commands.add_parser("list", help="List keys (prefixes only).")
        listing.add_argument("--all", action="store_true", help="Include revoked keys.")
        revoke = commands.add_parser("revoke", help="Revoke a key.")
        revoke.add_argument(
            "prefix", help="The prefix as `list` shows it (sk_AbCdEfGh…), or the whole key."
        )

    def handle(self, *args, command: str, **options):
        getattr(self, f"_{command}")(**options)

    def _create(self, account_id, service, name, import_key, replace, **options):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    key, secret = keys.create_key(account_id=account_id, name=name, raw=import_key)
            except ValueError as err:
                raise CommandError(str(err)) from None
            except IntegrityError:  # only a key's hash is unique
                raise CommandError(
                    "This key is stored already: `support_keys list` shows it by its prefix."
                ) from None
            same = ApiKey.objects.filter(kind=key.kind, account_id=key.account_id, name=key.name)
            for old in same.filter(revoked_at=None).exclude(pk=key.pk) if replace else []:
                keys.revoke(old)
                self.stdout.write(f"Revoked {old.prefix}…, which it replaces.")
        who = f"account {key.account_id}" if key.account_id else "any account (service key)"
        self.stdout.write(f"Created {key.get_kind_display().lower()} {key.prefix}… for {who}.")
        self.stdout.write("Keep it now: it is not stored and cannot be shown again.")
        self.stdout.write(secret)

    def _list(self, all, **options):
        queryset = ApiKey.objects.all() if all else ApiKey.objects.filter(revoked_at=None)
        for key in queryset:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            # Columns are padded as text: a UUID's own format() takes no width.
            account = str(key.account_id) if key.account_id else "-"
            self.stdout.write(
                f"{key.prefix}…  {key.kind:<7}  {account:<36}  {state:<18}  "
                f"last used {used}  {one_line(key.name)}"
            )

    def _revoke(self, prefix, **options):
        # As `list` and `create` print it, "sk_AbCdEfGh…", or without the ellipsis.
        prefix = prefix.strip().removesuffix("…").removesuffix("...")
        active = ApiKey.objects.filter(revoked_at=None)
        if len(prefix) > keys.VISIBLE_CHARS:  # the whole secret was given
            matches = list(active.filter(hashed_key=keys.hash_key(prefix)))
        else:
            matches = list(active.filter(prefix__startswith=prefix))
        if not matches:
            raise CommandError(f"No active key starts with {prefix!r}.")
        if len(matches) > 1:
            raise CommandError(
                f"{len(matches)} active keys start with {prefix!r}: give more characters."
            )
        keys.revoke(matches[0])
        self.stdout.write(f"Revoked {matches[0].prefix}….")
