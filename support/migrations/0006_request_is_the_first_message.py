"""The request that opened each ticket becomes the first message of its conversation.

Set-based, one statement each way, so that a million tickets take one pass of the table,
not a million round trips: every ticket's body becomes a message of kind `requester`,
written by the requester when the ticket was filed; then the ticket's own copy goes.
Backwards, each ticket takes its first message's text back, and that message goes.
"""

from django.db import migrations, models


def request_to_message(apps, schema_editor):
    Ticket = apps.get_model("support", "Ticket")
    Message = apps.get_model("support", "Message")
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote(Message._meta.db_table)} "
        "(ticket_id, kind, author_id, author_name, body, created_at) "
        "SELECT id, 'requester', NULL, requester_name, body, created_at "
        f"FROM {quote(Ticket._meta.db_table)}"
    )


def message_to_request(apps, schema_editor):
    Ticket = apps.get_model("support", "Ticket")
    Message = apps.get_model("support", "Message")
    ticket, message = quote_tables(schema_editor, Ticket, Message)
    first = (
        f"SELECT m.id FROM {message} m WHERE m.ticket_id = {ticket}.id "
        "ORDER BY m.created_at, m.id LIMIT 1"
    )
    schema_editor.execute(
        f"UPDATE {ticket} SET body = (SELECT m.body FROM {message} m WHERE m.id = ({first}))"
    )
    schema_editor.execute(
        f"DELETE FROM {message} WHERE id IN (SELECT ({first}) FROM {ticket})"
    )


def quote_tables(schema_editor, *models):
    return [schema_editor.quote_name(model._meta.db_table) for model in models]


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0005_staff_admin"),
    ]

    operations = [
        migrations.RunPython(request_to_message, message_to_request),
        # Only so that going back can add the column to existing rows (a default for the
        # moment it is added); nothing changes in the database.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="body",
                    field=models.TextField(default="", verbose_name="body"),
                ),
            ]
        ),
        migrations.RemoveField(model_name="ticket", name="body"),
        migrations.AlterField(
            model_name="ticket",
            name="description",
            field=models.TextField(
                help_text="The request's text with the location and course links appended, "
                "as the API lists it and helpdesks receive it; the text itself is the first "
                "message.",
                verbose_name="description",
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="body",
            field=models.TextField(help_text="As written: Markdown or HTML.", verbose_name="body"),
        ),
    ]
