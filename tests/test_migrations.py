"""Migrations that move data: run forwards and backwards over tickets of the older schema."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("support", "0005_staff_admin")]
AFTER = [("support", "0006_request_is_the_first_message")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0005(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    migrate(executor_leaf())


def executor_leaf():
    return MigrationExecutor(connection).loader.graph.leaf_nodes("support")


def test_each_request_becomes_its_tickets_first_message_and_back(at_0005):
    Ticket = at_0005.get_model("support", "Ticket")
    Message = at_0005.get_model("support", "Message")
    filed = timezone.now() - timedelta(days=3)
    tickets = []
    for n in range(3):
        tickets.append(
            Ticket.objects.create(
                id=uuid.uuid4(), access_key="k", requester_name=f"Jane {n}",
                requester_email="jane@example.com", subject=f"Ticket {n}",
                body=f"Request **{n}**", description=f"Request **{n}**\n\nhttps://x/p",
                channel="api", fingerprint="f", created_at=filed + timedelta(minutes=n),
            )
        )  # fmt: skip
    Message.objects.create(
        ticket=tickets[0], kind="reply", author_name="Ada", body="Answered.",
        created_at=filed + timedelta(hours=1),
    )  # fmt: skip

    apps = migrate(AFTER)

    Message = apps.get_model("support", "Message")
    for n, ticket in enumerate(tickets):
        first = Message.objects.filter(ticket_id=ticket.pk).order_by("created_at", "id")[0]
        assert (first.kind, first.author_name, first.body, first.created_at) == (
            "requester",
            f"Jane {n}",
            f"Request **{n}**",
            ticket.created_at,
        )
    assert list(
        Message.objects.filter(ticket_id=tickets[0].pk)
        .order_by("created_at")
        .values_list("body", flat=True)
    ) == ["Request **0**", "Answered."]

    apps = migrate(BEFORE)

    Ticket = apps.get_model("support", "Ticket")
    Message = apps.get_model("support", "Message")
    assert [Ticket.objects.get(pk=t.pk).body for t in tickets] == [
        "Request **0**",
        "Request **1**",
        "Request **2**",
    ]
    assert list(Message.objects.values_list("body", flat=True)) == ["Answered."]
