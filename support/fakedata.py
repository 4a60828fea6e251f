"""Realistic fake tickets and conversations, for demos and benchmarks, made fast.

Rows are built from small pools of names, subjects and bodies combined at random (seeded:
a seed gives the same accounts and content; ticket ids are always new), then written in batches: with COPY on PostgreSQL (a
million tickets in a few minutes), with bulk_create elsewhere. They bypass
support.tickets.file_ticket on purpose: that path causes deliveries (e-mail to the
requester), which fake tickets must never do, and stores one ticket per statement.
Every address is at example.com/.org/.net, which cannot receive mail.
"""

import hashlib
import json
import random
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from .models import Message, Ticket
from .normalise import CleanTicket

FIRST = [
    "Ada", "Alan", "Alice", "Amir", "Ana", "Anders", "Aisha", "Ben", "Bianca", "Carlos", "Chen",
    "Chloe", "Daniel", "Dara", "Elena", "Emma", "Farid", "Fatima", "Gabriel", "Grace", "Hana",
    "Hugo", "Ines", "Ivan", "Jana", "Javier", "Jin", "Julia", "Kai", "Kofi", "Lars", "Laura",
    "Leila", "Li", "Lucas", "Maria", "Mateo", "Maya", "Mei", "Mohammed", "Nadia", "Nina",
    "Noah", "Olga", "Omar", "Pablo", "Priya", "Rafael", "Rosa", "Sam", "Sara", "Sofia", "Tariq",
    "Theo", "Uma", "Victor", "Wei", "Yara", "Yusuf", "Zoe"
]  # fmt: skip
LAST = [
    "Adams", "Ahmed", "Andersson", "Becker", "Brown", "Chen", "Costa", "Da", "Silva", "Dubois",
    "Evans", "Fischer", "Garcia", "Gonzalez", "Hansen", "Hoffmann", "Ivanova", "Jensen",
    "Johnson", "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Martin", "Meyer",
    "Miller", "Moreau", "Müller", "Nakamura", "Nguyen", "Nielsen", "Novak", "O'Brien", "Okafor",
    "Patel", "Petrov", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Sato",
    "Tanaka", "Taylor", "Weber", "Wilson", "Wong", "Yamamoto", "Zhang"
]  # fmt: skip
DOMAINS = ["example.com", "example.org", "example.net", "uni.example.edu", "lab.example.org"]
PACKAGES = [
    "numpy", "pandas", "scipy", "sympy", "tensorflow", "torch", "sage", "R tidyverse",
    "julia", "octave", "latex beamer", "biopython", "networkx", "matplotlib", "plotly",
]  # fmt: skip
FEATURES = [
    "Jupyter notebook", "terminal", "LaTeX editor", "course", "project", "sync", "chat",
    "time travel", "file upload", "SSH key", "licence", "billing page", "whiteboard",
]  # fmt: skip
SUBJECTS = [
    "please install package {package}",
    "{package} import fails with ModuleNotFoundError",
    "{feature} is very slow today",
    "cannot open my {feature}",
    "{feature} keeps disconnecting",
    "question about my subscription",
    "invoice needs a VAT number",
    "students cannot join the {feature}",
    "lost work after restart of the {feature}",
    "how do I share a {feature} with my class?",
    "upgrade request: more memory for {package}",
    "kernel dies when running {package}",
    "refund for a duplicate payment",
    "2FA: locked out of my account",
]
BODIES = [
    (
        "Hi,\n\nwhen I open the {feature} it shows a spinner forever. I tried another browser "
        "and cleared the cache.\n\nThanks!"
    ),
    (
        "Could you please install **{package}** for Python 3? I need it for my course next "
        "week.\n\n```\nimport {package}\n```\nfails."
    ),
    (
        "Since this morning my {feature} is unusable. Steps:\n\n1. open the project\n2. start "
        "the {feature}\n3. wait\n\nIt worked yesterday."
    ),
    (
        "Hello support team,\n\nI teach a class of 40 students and some of them cannot access "
        "the {feature}. Is there a limit?\n\nBest regards"
    ),
    (
        "I was charged twice this month. Can you refund one of the payments? The invoice "
        "numbers are in my account."
    ),
    (
        "My notebook uses {package} and the kernel restarts after a few minutes. Is it out of "
        "memory? How can I get more?"
    ),
    "<p>The {feature} shows <em>error 502</em> and then reloads.</p><p>Any idea?</p>",
]
REPLIES = [
    "Thanks for the report! We have installed {package}; please restart your project.",
    "Could you send us the exact error message and the URL of the {feature}?",
    "This was a problem on our side and is fixed now. Sorry for the trouble!",
    "We have refunded the duplicate payment; it may take a few days to show.",
    "Your project now has more memory. Let us know if the kernel still dies.",
]
REQUESTER_REPLIES = [
    "Thank you, it works now!",
    "Still the same problem, here is the error:\n\n    Kernel died unexpectedly",
    "I restarted the project but {package} still does not import.",
    "Great, thanks for the quick answer.",
]
NOTES = [
    "Checked the logs: OOM kills on the host around the time of the report.",
    "Same as the issue last week; escalated to the infrastructure team.",
    "Customer has a course licence; priority.",
    "Refund done in Stripe.",
]
STAFF = ["Harald (support)", "William (support)", "Blaec (support)", "Andrey (support)"]
TAGS = [
    "member", "free", "course", "billing", "bug", "install", "jupyter", "latex", "urgent",
    "teacher", "student", "performance", "account", "feature-request",
]  # fmt: skip
BROWSERS = [
    ("Chrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0"),
    ("Firefox", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    ("Safari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605"),
    ("Edge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Edg/131.0"),
]
OSES = ["Windows 11", "macOS 14", "Ubuntu 24.04", "ChromeOS", "iOS 18", "Android 15"]
FILES = ["worksheet.sagews", "analysis.ipynb", "thesis.tex", "hw3.ipynb", "notes.md", "data.csv"]
# How tickets are spread over statuses: most old work is done.
STATUS_WEIGHTS = {
    Ticket.Status.NEW: 3, Ticket.Status.OPEN: 5, Ticket.Status.PENDING: 7,
    Ticket.Status.SOLVED: 35, Ticket.Status.CLOSED: 50,
}  # fmt: skip
TICKET_COLUMNS = [
    "id", "access_key", "requester_name", "requester_email", "subject", "description", "tags", "account_id", "location", "info", "status", "channel",
    "fingerprint", "unplanned_deliveries", "external_id", "external_url", "created_at",
    "updated_at",
]  # fmt: skip
MESSAGE_COLUMNS = ["ticket_id", "kind", "author_name", "body", "created_at"]


@dataclass
class Made:
    """How many rows `fill()` added."""

    tickets: int = 0
    messages: int = 0


class Faker:
    """Makes ticket rows (dicts of TICKET_COLUMNS) and their messages."""

    def __init__(self, *, accounts: int, seed: int | None, days: int, messages: float) -> None:
        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.days = days
        self.message_share = messages
        self.accounts = [self._account() for _ in range(accounts)]
        self.statuses = list(STATUS_WEIGHTS)
        self.weights = list(STATUS_WEIGHTS.values())

    def _past(self, moment: datetime) -> datetime:
        """`moment`, or if it is in the future, a moment of the last hour."""
        if moment <= self.now:
            return moment
        return self.now - timedelta(seconds=self.rng.randrange(1, 3600))

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _person(self) -> tuple[str, str]:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "").replace("ü", "ue")
        return f"{first} {last}", f"{local}{self.rng.randrange(100)}@{self.rng.choice(DOMAINS)}"

    def _account(self) -> tuple[uuid.UUID, str, str]:
        return (self._uuid(), *self._person())

    def ticket(self) -> tuple[dict, list[dict]]:
        rng = self.rng
        words = {"package": rng.choice(PACKAGES), "feature": rng.choice(FEATURES)}
        if self.accounts and rng.random() < 0.85:
            account_id, name, email = rng.choice(self.accounts)
        else:
            account_id, (name, email) = None, self._person()
        browser, agent = rng.choice(BROWSERS)
        info = {"browser": browser, "user_agent": agent, "os": rng.choice(OSES),
                "mobile": rng.random() < 0.1}  # fmt: skip
        location = ""
        if rng.random() < 0.7:
            location = f"/projects/{self._uuid()}/{rng.choice(FILES)}"
        if rng.random() < 0.2:
            info["course"] = str(self._uuid())
        clean = CleanTicket(
            id=uuid.uuid4(), account_id=account_id, name=name, email=email,
            subject=rng.choice(SUBJECTS).format(**words), body=rng.choice(BODIES).format(**words),
            tags=sorted(set(rng.sample(TAGS, rng.choice((0, 1, 1, 2, 2, 3))))),
            location=location, info=info,
        )  # fmt: skip
        # Spread over `days`, more of them recent (as a growing platform sees).
        age = timedelta(days=self.days * rng.random() ** 1.5, seconds=rng.randrange(86400))
        created = self.now - age
        status = rng.choices(self.statuses, self.weights)[0]
        updated = created
        # The request is the conversation's first message.
        messages = [{"ticket_id": clean.id, "kind": Message.Kind.REQUESTER, "author_name": name,
                     "body": clean.body, "created_at": created}]  # fmt: skip
        if status != Ticket.Status.NEW and rng.random() < self.message_share:
            messages += self._conversation(clean, created, words)
            updated = messages[-1]["created_at"]
        elif status != Ticket.Status.NEW:
            updated = self._past(created + timedelta(minutes=rng.randrange(1, 20000)))
        row = {
            "id": clean.id, "access_key": secrets.token_urlsafe(18), "requester_name": name,
            "requester_email": email, "subject": clean.subject,
            "description": clean.description(), "tags": clean.tags, "account_id": account_id,
            "location": location, "info": info, "status": status,
            "channel": Ticket.Channel.API if rng.random() < 0.7 else Ticket.Channel.FORM,
            "fingerprint": hashlib.sha256(clean.id.bytes).hexdigest(),
            "unplanned_deliveries": "", "external_id": "", "external_url": "",
            "created_at": created, "updated_at": updated,
        }  # fmt: skip
        return row, messages

    def _conversation(self, clean: CleanTicket, created: datetime, words: dict) -> list[dict]:
        rng = self.rng
        at = created
        messages = []
        for turn in range(rng.choice((1, 1, 2, 3, 4))):
            at = self._past(at + timedelta(minutes=rng.randrange(5, 3000)))
            if turn % 2 == 0:
                kind, name, body = Message.Kind.REPLY, rng.choice(STAFF), rng.choice(REPLIES)
                if rng.random() < 0.2:
                    kind, body = Message.Kind.NOTE, rng.choice(NOTES)
            else:
                kind, name, body = Message.Kind.REQUESTER, clean.name, rng.choice(REQUESTER_REPLIES)
            messages.append({"ticket_id": clean.id, "kind": kind, "author_name": name,
                             "body": body.format(**words), "created_at": at})  # fmt: skip
        return messages

    def batches(self, count: int, size: int) -> Iterator[tuple[list[dict], list[dict]]]:
        while count > 0:
            tickets, messages = [], []
            for _ in range(min(size, count)):
                ticket, conversation = self.ticket()
                tickets.append(ticket)
                messages.extend(conversation)
            count -= len(tickets)
            yield tickets, messages


def fill(
    tickets: int,
    *,
    accounts: int,
    seed: int | None = None,
    days: int = 730,
    messages: float = 0.4,
    batch: int = 10_000,
    progress: Callable[[Made], None] | None = None,
) -> Made:
    """Add `tickets` fake tickets over `accounts` accounts (some without an account), a
    share `messages` of the answered ones with a conversation. `progress(made)` is called
    after each batch."""
    faker = Faker(accounts=accounts, seed=seed, days=days, messages=messages)
    made = Made()
    write = _copy if connection.vendor == "postgresql" else _bulk_create
    for ticket_rows, message_rows in faker.batches(tickets, batch):
        write(ticket_rows, message_rows)
        made.tickets += len(ticket_rows)
        made.messages += len(message_rows)
        if progress:
            progress(made)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the planner needs to know the new rows
            cursor.execute(f"ANALYZE {Ticket._meta.db_table}, {Message._meta.db_table}")
    return made


def _copy(ticket_rows: list[dict], message_rows: list[dict]) -> None:
    json_columns = {"tags", "info"}
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {Ticket._meta.db_table} ({', '.join(TICKET_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in ticket_rows:
                copy.write_row(
                    [json.dumps(row[c]) if c in json_columns else row[c] for c in TICKET_COLUMNS]
                )
        with cursor.cursor.copy(
            f"COPY {Message._meta.db_table} ({', '.join(MESSAGE_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in message_rows:
                copy.write_row([row[c] for c in MESSAGE_COLUMNS])


def _bulk_create(ticket_rows: list[dict], message_rows: list[dict]) -> None:
    Ticket.objects.bulk_create([Ticket(**row) for row in ticket_rows], batch_size=500)
    Message.objects.bulk_create([Message(**row) for row in message_rows], batch_size=500)
