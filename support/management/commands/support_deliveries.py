from django.core.management.base import BaseCommand, CommandError

from ... import deliveries
from ...models import Delivery
from .support_keys import one_line


class Command(BaseCommand):
    help = "See and retry the e-mail and forwards that tickets cause."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        commands.add_parser("list", help="List deliveries that failed or are still pending.")
        retry = commands.add_parser("retry", help="Send failed deliveries again.")
        which = retry.add_mutually_exclusive_group(required=True)
        which.add_argument("ids", nargs="*", type=int, default=[], help="Delivery ids.")
        which.add_argument("--all-failed", action="store_true", help="Every failed delivery.")
        commands.add_parser(
            "resume",
            help="Enqueue every pending delivery (after a worker died, or from cron).",
        )

    def handle(self, *args, command: str, **options):
        getattr(self, f"_{command}")(**options)

    def _list(self, **options):
        unfinished = Delivery.objects.exclude(status=Delivery.Status.SENT).select_related("ticket")
        for delivery in unfinished:
            self.stdout.write(
                f"{delivery.pk:>8}  {delivery.status:<8}  {delivery.kind:<18}  "
                f"attempts {delivery.attempts:<3}  ticket {delivery.ticket_id}  "
                f"{one_line(delivery.last_error)[:80]}"
            )

    def _retry(self, ids, all_failed, **options):
        failed = Delivery.objects.filter(status=Delivery.Status.FAILED)
        if ids:
            failed = failed.filter(pk__in=ids)
        count = deliveries.retry(failed)
        if ids and count < len(set(ids)):
            raise CommandError(f"Only {count} of those deliveries had failed; retried them.")
        self.stdout.write(f"Retrying {count} deliveries.")

    def _resume(self, **options):
        self.stdout.write(f"Enqueued {deliveries.resume()} pending deliveries.")
