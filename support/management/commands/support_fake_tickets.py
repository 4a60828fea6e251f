import time

from django.core.management.base import BaseCommand, CommandError

from ...fakedata import fill


class Command(BaseCommand):
    """`manage.py support_fake_tickets --tickets N [--accounts M] [--seed S]`."""

    help = (
        "Fill the database with realistic fake tickets and conversations, for demos and "
        "benchmarks. Nothing is e-mailed or forwarded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=1000, help="How many (default 1000).")
        parser.add_argument(
            "--accounts", type=int, default=None, help="Over how many accounts (default 1/20)."
        )
        parser.add_argument("--seed", type=int, default=None, help="The same seed, the same data.")
        parser.add_argument("--days", type=int, default=730, help="Spread over this many days.")
        parser.add_argument(
            "--messages",
            type=float,
            default=0.4,
            help="Share of answered tickets with a conversation (default 0.4).",
        )
        parser.add_argument("--batch", type=int, default=10_000, help="Rows per insert.")

    def handle(self, *args, tickets, accounts, seed, days, messages, batch, **options):
        if tickets < 0 or (accounts is not None and accounts < 0) or batch < 1 or days < 1:
            raise CommandError("--tickets and --accounts must be >= 0, --batch and --days >= 1.")
        if not 0 <= messages <= 1:
            raise CommandError("--messages is a share, between 0 and 1.")
        if accounts is None:
            accounts = max(tickets // 20, 1)
        started = time.monotonic()

        def progress(made):
            if options["verbosity"] >= 2:
                self.stdout.write(f"  {made.tickets} tickets, {made.messages} messages")

        made = fill(
            tickets, accounts=accounts, seed=seed, days=days, messages=messages, batch=batch,
            progress=progress,
        )  # fmt: skip
        self.stdout.write(
            f"Added {made.tickets} tickets over {accounts} accounts and {made.messages} "
            f"messages in {time.monotonic() - started:.1f} s."
        )
