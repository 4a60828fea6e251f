"""`manage.py support_fake_tickets`: realistic fake data, fast, that e-mails nobody."""

import pytest
from django.core.management import CommandError, call_command

from support.models import Delivery, Message, Ticket
from tests.conftest import followups


def test_fills_tickets_over_accounts_with_conversations(db, capsys):
    call_command("support_fake_tickets", tickets=300, accounts=20, seed=7, batch=120)

    assert Ticket.objects.count() == 300
    with_account = Ticket.objects.exclude(account_id=None)
    assert 0 < with_account.count() < 300  # some are anonymous
    assert with_account.values("account_id").distinct().count() <= 20
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Ticket.Status.values)
    assert followups().exists()
    assert set(Message.objects.values_list("kind", flat=True)) <= set(Message.Kind.values)
    ticket = Ticket.objects.exclude(info={}).first()
    assert {"browser", "os", "user_agent"} <= set(ticket.info)
    assert ticket.requester_email.split("@")[1].split(".")[-2] == "example"
    for ticket in Ticket.objects.all()[:50]:
        assert ticket.updated_at >= ticket.created_at
        assert ticket.tags == sorted(set(ticket.tags))
    assert not Delivery.objects.exists() and not Ticket.objects.exclude(unplanned_deliveries="")
    assert "Added 300 tickets over 20 accounts" in capsys.readouterr().out


def test_same_seed_gives_the_same_accounts(db):
    call_command("support_fake_tickets", tickets=50, accounts=5, seed=3)
    first = set(Ticket.objects.exclude(account_id=None).values_list("account_id", flat=True))
    call_command("support_fake_tickets", tickets=50, accounts=5, seed=3)  # ids never clash

    assert Ticket.objects.count() == 100
    both = set(Ticket.objects.exclude(account_id=None).values_list("account_id", flat=True))
    assert both == first


def test_bad_arguments_are_refused(db):
    with pytest.raises(CommandError):
        call_command("support_fake_tickets", tickets=-1)
    with pytest.raises(CommandError):
        call_command("support_fake_tickets", messages=2.0)
