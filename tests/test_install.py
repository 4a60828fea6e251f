"""The app as another project installs it.

Builds the wheel, installs it into a new virtualenv, makes a project with `django-admin
startproject`, applies the lines of the README's section "Use it in your Django project"
(and nothing else but what a test needs: where mail goes, the address it serves on), then
uses the desk as people would: migrate, `check --deploy`, the API, the form, the ticket
page, the admin, and the worker's confirmation mail.

Slow (it installs from the package index) and independent of the database under test, so
it is left out of the usual run: `.ci/run` runs it once with `scripts/test -m install`.
"""

import os
import re
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import requests

from tests.receivers import SmtpServer
from tests.stack import free_port

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Use it in your Django project"
ACCOUNT = "291f43c1-deae-431c-b763-712307fa6859"


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    return text.split(SECTION, 1)[1].split("\n## ", 1)[0]


def readme_blocks() -> dict[str, str]:
    """The section's code blocks, by the file their first line names (`# settings.py`), and
    the shell block that installs the package under "install"."""
    blocks = {}
    for language, code in re.findall(r"```(\w+)\n(.*?)```", readme_section(), re.DOTALL):
        first = code.splitlines()[0].strip()
        if language == "python" and first.startswith("# ") and first.endswith(".py"):
            blocks[first[2:]] = code
        elif language == "sh" and "pip install" in code:
            blocks["install"] = code
    assert {"settings.py", "urls.py", "install"} <= blocks.keys(), blocks.keys()
    return blocks


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what points at the desk's own project and tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SUPPORT_"))}
    env.pop("DATABASE_URL", None)
    env.pop("CACHE_URL", None)
    return {**env, **extra}


def run(*args, cwd=None, env=None, timeout=600) -> str:
    result = subprocess.run(
        [str(arg) for arg in args], check=False, cwd=cwd, env=env or clean_env(),
        capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", dist)
    (built,) = dist.glob("django_support_desk-*.whl")
    return built


@pytest.fixture(scope="module")
def project(tmp_path_factory, wheel, smtp):
    """A new project with the wheel installed as the README says; its directory and a
    function that runs its manage.py."""
    tmp = tmp_path_factory.mktemp("install")
    run(sys.executable, "-m", "venv", tmp / "venv")
    python = tmp / "venv" / "bin" / "python"
    blocks = readme_blocks()
    # The README's `pip install django-support-desk[extras]`, from the wheel just built.
    (requirement,) = re.findall(r"pip install (django-support-desk\S*)", blocks["install"])
    extras = requirement.removeprefix("django-support-desk")
    run(python, "-m", "pip", "install", "-q", f"{wheel}{extras}")
    (tmp / "myplatform").mkdir()
    run(tmp / "venv" / "bin" / "django-admin", "startproject", "myplatform", tmp / "myplatform")

    site = tmp / "myplatform"
    port = free_port()
    settings = site / "myplatform" / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\n# --- The README's lines\n"
        + blocks["settings.py"]
        + "\n# --- What this test needs: production mode, its own address, mail to its server\n"
        + f"DEBUG = False\nSECRET_KEY = {'install-test-' + uuid.uuid4().hex * 2!r}\n"
        + 'ALLOWED_HOSTS = ["127.0.0.1"]\n'
        + f'SUPPORT["PUBLIC_URL"] = "http://127.0.0.1:{port}"\n'
        + f'EMAIL_HOST, EMAIL_PORT = "127.0.0.1", {smtp.port}\n'
    )
    urls = site / "myplatform" / "urls.py"
    urls.write_text(urls.read_text() + "\n# --- The README's lines\n" + blocks["urls.py"])

    def manage(*args, **kwargs) -> str:
        return run(python, "manage.py", *args, cwd=site, **kwargs)

    manage("migrate", "--noinput")
    server = subprocess.Popen(
        [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=site, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(url + "/support/new/", timeout=5)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield site, manage, url
    server.terminate()
    server.wait(10)


def test_the_wheel_holds_the_app_with_its_files_and_nothing_else(wheel):
    import support

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert wheel.name.startswith(f"django_support_desk-{support.__version__}-")
    outside = [n for n in names if not n.startswith(("support/", "django_support_desk-"))]
    assert outside == []
    for expected in [
        "support/migrations/0001_initial.py",
        "support/templates/support/ticket_detail.html",
        "support/static/support/widget.js",
        "support/templates/support/email/confirmation_subject.txt",
    ]:
        assert expected in names
    assert not [n for n in names if "__pycache__" in n or n.startswith("support/tests")]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(metadata).decode()
    assert "License-Expression: BSD-3-Clause" in text
    assert "Requires-Dist: django<6.0,>=5.2" in text


def test_check_deploy_reports_nothing_of_the_app(project):
    _site, manage, _url = project
    output = manage("check", "--deploy")
    assert "support." not in output, output


def test_the_installed_app_files_shows_and_mails_a_ticket(project, smtp):
    _site, manage, url = project
    key = manage("support_keys", "create", "--account-id", ACCOUNT, "--name", "t").split()[-1]
    response = requests.post(
        url + "/api/v1/create_support_ticket",
        auth=(key, ""),
        json={"email_address": "jane@example.com", "subject": "Installed", "body": "It works"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    ticket_url = response.json()["url"]
    assert ticket_url.startswith(url + "/support/tickets/")
    page = requests.get(ticket_url, timeout=10)
    assert page.status_code == 200 and "Installed" in page.text
    assert requests.get(url + "/support/new/", timeout=10).status_code == 200

    # The admin shows it to a superuser.
    manage(
        "createsuperuser", "--noinput", "--username", "boss", "--email", "boss@example.com",
        env=clean_env(DJANGO_SUPERUSER_PASSWORD="a-long-pass-phrase"),
    )  # fmt: skip
    admin = requests.Session()
    admin.get(url + "/admin/login/", timeout=10)
    login = admin.post(
        url + "/admin/login/?next=/admin/",
        data={
            "username": "boss",
            "password": "a-long-pass-phrase",
            "csrfmiddlewaretoken": admin.cookies["csrftoken"],
        },
        headers={"Referer": url + "/admin/login/"},
        timeout=10,
    )
    assert login.ok and "Log out" in login.text
    listing = admin.get(url + "/admin/support/ticket/", timeout=10)
    assert listing.status_code == 200 and "Installed" in listing.text

    # The worker sends the requester's confirmation, with the link to the ticket.
    manage("db_worker", "--batch", "--interval", "0")
    (mail,) = [m for m in smtp.messages if m["To"] == "jane@example.com"]
    assert ticket_url in mail.get_body(("plain",)).get_content()
