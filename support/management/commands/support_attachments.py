"""Attachments from the command line.

    manage.py support_attachments clean    # remove files of forms never sent

The worker runs the same clean-up on its own (a task that uploads schedule for when their
files are due); from cron, run `clean` daily where the task backend cannot defer tasks.
"""

from django.core.management.base import BaseCommand

from ...filestore import clean_up


class Command(BaseCommand):
    help = (
        "Remove the files of forms that were never sent (pending past ATTACHMENT_PENDING_SECONDS)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["clean"])

    def handle(self, *args, action: str, **options) -> None:
        removed = clean_up()
        self.stdout.write(f"Removed {removed} pending attachment(s).")
