"""What the deployed desk writes to its logs: never an API key, a widget identity or the
secret of a requester's private link.

Real gunicorn, started with the options of the README's production command (read from the
README, so they cannot drift apart), its access log and error output to files."""

import re
import shlex
import time

import jwt
import pytest
import requests

from tests.stack import ROOT, Stack, free_port

SECRET = "a-secret-the-platform-and-the-desk-share-0123456789"


def production_options() -> list[str]:
    """The options of the gunicorn command in the README's Production section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production", 1)[1]
    command = re.search(
        r"^gunicorn config\.wsgi .*?(?<!\\)$", section, re.MULTILINE | re.DOTALL
    ).group(0)
    words = shlex.split(command.replace("\\\n", " "))
    options, skip = [], False
    for word in words[2:]:
        if skip:
            skip = False
        elif word == "--bind":
            skip = True  # the test's own port
        else:
            options.append(word)
    return options


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("logs")
    stack = Stack(tmp, SUPPORT_IDENTITY_SECRET=SECRET, SUPPORT_FRAME_ANCESTORS="https://cocalc.com")
    output = tmp / "gunicorn.log"
    options = production_options()
    assert "--access-logfile" in options and "--access-logformat" in options
    options[options.index("--workers") + 1] = "1"
    try:
        key = stack.manage("support_keys", "create", "--service").splitlines()[-1]
        yield stack.serve(options=options, output=output), key, output
    finally:
        stack.close()


def test_no_key_or_identity_in_access_log_or_errors(deployed):
    url, key, output = deployed
    identity = jwt.encode(
        {"email": "ada@example.com", "name": "Ada", "exp": int(time.time()) + 600}, SECRET
    )
    ticket = {"email_address": "a@example.com", "subject": "Logs", "body": "help",
              "account_id": "291f43c1-deae-431c-b763-712307fa6859"}  # fmt: skip
    created = requests.post(
        f"{url}/api/v1/create_support_ticket", json=ticket, auth=(key, ""), timeout=30
    )
    listed = requests.get(
        f"{url}/api/v1/get_support_tickets",
        params={"account_id": ticket["account_id"]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    opened = requests.post(  # as the widget opens its form: a cross-site POST
        f"{url}/support/embed/open/",
        data={"identity": identity, "location": "/projects/p?token=host-page-secret"},
        headers={"Origin": "https://cocalc.com", "Referer": "https://cocalc.com/projects/p"},
        timeout=30,
    )
    refused = requests.get(f"{url}/api/v1/get_support_tickets", auth=(key + "x", ""), timeout=30)
    # The requester's private link: its secret is one too.
    link = url + "/support/tickets/" + created.json()["url"].split("/support/tickets/")[1]
    page = requests.get(link, timeout=30)
    forbidden = requests.post(link, timeout=30)  # Django logs the path of a CSRF failure
    missing = requests.get(f"{url}/support/embed/nope/?identity={identity}", timeout=30)
    assert (created.status_code, listed.status_code, opened.status_code) == (200, 200, 200)
    assert (refused.status_code, missing.status_code) == (401, 404)
    assert (page.status_code, forbidden.status_code) == (200, 403)
    ticket_path = link.split("/support/tickets/")[1]
    ticket_id, access_key = ticket_path.strip("/").split("/")
    assert "You are writing as Ada" in opened.text

    time.sleep(0.5)  # gunicorn writes its access log after each response
    log = output.read_text()
    lines = log.splitlines()
    # The requests are in the log: method, path, status...
    assert any('"POST /api/v1/create_support_ticket" 200' in line for line in lines), log
    assert any('"GET /api/v1/get_support_tickets" 200' in line for line in lines), log
    assert any('"POST /support/embed/open/" 200' in line for line in lines), log
    assert any("Not Found: /support/embed/nope/" in line for line in lines), log  # Django's
    assert any(f'"GET /support/tickets/{ticket_id}/***/" 200' in line for line in lines), log
    assert any(
        "Forbidden (CSRF" in line and f": /support/tickets/{ticket_id}/***/" in line
        for line in lines
    ), log
    # ...but no secret: neither the key (nor its wrong variant), nor the identity token,
    # nor the host page's query the widget sent.
    for secret in (key, key[12:], identity, identity.split(".")[1], "host-page-secret", access_key):
        assert secret not in log


def wait_for(url: str) -> None:
    for _ in range(150):
        try:
            requests.get(url, timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answers at {url}")


def visit_a_ticket(url: str, key: str) -> tuple[str, str]:
    """File a ticket, open its page, a page of it with a wrong secret (404) and post to
    it without a CSRF token (403); the ticket's path and its secret."""
    created = requests.post(
        f"{url}/api/v1/create_support_ticket",
        json={"email_address": "a@example.com", "subject": "Logs", "body": "help"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    path = "/support/tickets/" + created.json()["url"].split("/support/tickets/")[1]
    ticket_id, secret = path.strip("/").split("/")[-2:]
    assert requests.get(url + path, timeout=30).status_code == 200
    assert requests.get(url + path.replace(secret, secret[::-1]), timeout=30).status_code == 404
    assert requests.post(url + path, timeout=30).status_code == 403
    time.sleep(0.5)  # the log lines are written after the responses
    return ticket_id, secret


@pytest.mark.parametrize("debug", ["true", "false"])
def test_the_development_server_writes_no_ticket_secret(tmp_path, debug):
    stack = Stack(tmp_path, DJANGO_DEBUG=debug)
    output = tmp_path / "runserver.log"
    port = free_port()
    try:
        key = stack.manage("support_keys", "create", "--service").splitlines()[-1]
        stack.start("manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", output=output)
        wait_for(f"http://127.0.0.1:{port}/api/v1/ping")
        ticket_id, secret = visit_a_ticket(f"http://127.0.0.1:{port}", key)
    finally:
        stack.close()

    log = output.read_text()
    # Its request lines, and Django's own warnings (with DEBUG, on its console too).
    assert f'"GET /support/tickets/{ticket_id}/***/ HTTP/1.1" 200' in log, log
    assert f"Not Found: /support/tickets/{ticket_id}/***/" in log, log
    assert f"Forbidden (CSRF cookie not set.): /support/tickets/{ticket_id}/***/" in log, log
    assert secret not in log and secret[::-1] not in log


def test_gunicorns_error_log_writes_no_ticket_secret(tmp_path):
    stack = Stack(tmp_path)
    output = tmp_path / "gunicorn.log"
    options = production_options()
    options[options.index("--workers") + 1] = "1"
    try:
        key = stack.manage("support_keys", "create", "--service").splitlines()[-1]
        # At debug level, gunicorn's error log names every request's path.
        url = stack.serve(options=[*options, "--log-level", "debug"], output=output)
        ticket_id, secret = visit_a_ticket(url, key)
    finally:
        stack.close()

    log = output.read_text()
    assert f"GET /support/tickets/{ticket_id}/***/" in log, log
    assert secret not in log and secret[::-1] not in log
