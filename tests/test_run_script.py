"""`scripts/run` as a new user meets it, in a fresh copy of the checkout (sharing its .venv):
every `manage.py` command the README or the script prints works as printed; links point at
the address it serves; stopped by its pid it leaves nothing running; run again, it starts on
the same port and revokes the previous demo key. On the database under test (a fresh one).

The commands are read from README.md's shell blocks and from what the script prints, not
from a list kept here, so that a command added later is run too. Placeholders (`<uuid>`)
get real values, `[--optional flags]` are used, large counts are made small; a placeholder
this test does not know fails it, to be taught here.
"""

import os
import pty
import re
import secrets
import select
import shlex
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection

from tests.conftest import ACCOUNT
from tests.stack import free_port

ROOT = Path(__file__).resolve().parent.parent
# Commands that serve until stopped: they must start and keep running.
SERVING = {"db_worker", "runserver", "rqworker"}
# Commands that ask for a password on the terminal.
INTERACTIVE = {"changepassword", "createsuperuser"}


def fresh_checkout(target: Path) -> Path:
    """What a clone of this checkout holds (its tracked and new files, nothing ignored: no
    .env, no database), with the checkout's .venv, as after `scripts/run` installed it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=False,
    )  # fmt: skip
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.decode().split("\0")):
            source = ROOT / name
            if source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
    else:  # not a git checkout: everything but what .gitignore leaves out
        ignored = shutil.ignore_patterns(
            ".git", ".venv", "db.sqlite3*", "var", ".env", "__pycache__", ".*_cache",
            ".hypothesis",
        )  # fmt: skip
        shutil.copytree(ROOT, target, ignore=ignored, dirs_exist_ok=True)
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def user_env(**extra: str) -> dict[str, str]:
    """A new user's shell: none of the tests' own settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SUPPORT_", "PYTEST_"))
        and key not in ("DATABASE_URL", "CACHE_URL", "EMAIL_URL", "PORT")
    }
    return {**env, **extra}


@pytest.fixture(scope="module")
def database():
    """Environment for a fresh database of the kind under test: a new PostgreSQL database,
    or none (SQLite: the checkout's db.sqlite3, as scripts/run uses by default)."""
    if connection.vendor != "postgresql":
        yield {}
        return
    db = connection.settings_dict
    server = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}"
    name = f"support_run_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": f"{server}/{name}"}
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Run:
    """`scripts/run` started in `checkout`, its output collected as it comes."""

    def __init__(
        self, checkout: Path, env: dict[str, str], port: int | None = None, own_group=False
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.checkout = checkout
        self.process = subprocess.Popen(
            ["scripts/run"], cwd=checkout, env={**env, "PORT": str(self.port)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=own_group,  # as a terminal's foreground job, for Ctrl-C
        )  # fmt: skip
        self.output = ""
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.output += line

    def wait_until_serving(self) -> str:
        """Wait for the banner and the server; return the banner."""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"scripts/run stopped:\n{self.output}"
            if "Demo tickets:" in self.output:
                try:
                    requests.get(self.url, timeout=5)
                    return self.output.split("Support desk on", 1)[1].split("\n\n", 1)[0]
                except requests.ConnectionError:
                    pass
            time.sleep(0.2)
        raise AssertionError(f"scripts/run did not serve:\n{self.output}")

    @property
    def demo_key(self) -> str:
        return re.search(r"Demo API key: (\S+)", self.output).group(1)

    def started(self) -> set[int]:
        """The pids of every process the script started, and of theirs."""
        return descendants(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (zombies, which hold nothing, count as ended)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def port_is_free(port: int) -> bool:
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    except requests.ConnectionError:
        return True
    return False


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    return fresh_checkout(tmp_path_factory.mktemp("clone"))


@pytest.fixture(scope="module")
def first_run(checkout, database):
    run = Run(checkout, user_env(**database))
    try:
        run.banner = run.wait_until_serving()
        yield run
    finally:
        run.stop()


# --- the printed commands


def readme_blocks() -> list[tuple[dict[str, str], list[str]]]:
    """README.md's shell blocks that run `manage.py`: each with the variables its `export`
    lines set and its `manage.py` command lines (comments dropped, `&&` split)."""
    text = (ROOT / "README.md").read_text()
    blocks = []
    for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, re.DOTALL):
        joined = block.replace("\\\n", " ")
        exports, commands = {}, []
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("export "):
                exports.update(word.split("=", 1) for word in shlex.split(line)[1:])
            for part in line.split("&&"):
                if "manage.py" in part:
                    commands.append(part.strip())
        if commands:
            blocks.append((exports, commands))
    assert blocks, "README.md shows no manage.py command?"
    return blocks


def printed_commands(banner: str) -> list[str]:
    """The `manage.py` commands in what scripts/run printed."""
    return [command.strip() for command in re.findall(r"\S*python manage\.py[^()'\n]*", banner)]


def as_run(command: str, values: dict[str, str]) -> list[str]:
    """`command` as a user would type it: placeholders filled, optional flags used, counts
    made small, `python` the virtualenv's."""
    command = re.sub(r"\[([^\]]*)\]", r"\1", command)
    for placeholder in re.findall(r"<[^>]+>", command):
        assert placeholder in values, f"teach this test the placeholder {placeholder}"
        command = command.replace(placeholder, values[placeholder])
    argv = shlex.split(command)
    if argv[0] == "python":
        argv[0] = ".venv/bin/python"
    assert argv[:2] == [".venv/bin/python", "manage.py"], command
    return [str(min(int(word), 20)) if word.isdigit() else word for word in argv]


def run_command(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run `argv` as a user would, and assert that it works: serving commands must start and
    keep serving, interactive ones get their answers on a terminal. Returns its output."""
    name = argv[2]
    if name in SERVING:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )  # fmt: skip
        lines: list[str] = []  # extend() appends each line as it is read
        reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
        reader.start()
        # Serving once it says it started (db_worker: "Starting worker", runserver:
        # "Starting development server"), and still a moment later.
        deadline = time.monotonic() + 60
        while not any("Starting" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        serving = process.poll() is None and any("Starting" in line for line in lines)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        reader.join(10)
        assert serving, f"{shlex.join(argv)} did not serve:\n{''.join(lines)}"
        return "".join(lines)
    if name in INTERACTIVE:
        return run_on_terminal(argv, cwd, env)
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{shlex.join(argv)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def run_on_terminal(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run `argv` on a pseudo-terminal, answering each password prompt."""
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=terminal, stdout=terminal, stderr=terminal,
        start_new_session=True,
    )  # fmt: skip
    os.close(terminal)
    output, answered = "", 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if select.select([main], [], [], 0.2)[0]:
            try:
                chunk = os.read(main, 1024)
            except OSError:  # the other side closed: it ended
                break
            output += chunk.decode(errors="replace")
        prompts = output.count("Password")
        if prompts > answered and output.rstrip().endswith(":"):
            os.write(main, b"a long new password 4 tests\n")
            answered += 1
    os.close(main)
    code = process.wait(30)
    assert code == 0 and answered, f"{shlex.join(argv)} failed ({code}):\n{output}"
    return output


def test_every_printed_command_works_as_printed(first_run, checkout, database):
    env = user_env(**database)
    values = {"<uuid>": str(ACCOUNT)}
    readme = [command for exports, block in readme_blocks() if not exports for command in block]
    commands = [*printed_commands(first_run.banner), *readme]
    assert any("support_fake_tickets" in c for c in commands)  # the banner's own

    ran = []
    for command in commands:
        argv = as_run(command, values)
        output = run_command(argv, checkout, env)
        created = re.search(r"Created .* (sk_\S+…)", output)
        if created:  # a later `revoke <prefix>` revokes it, given as printed
            values["<prefix>"] = created.group(1)
        ran.append(argv[2])

    assert {"support_fake_tickets", "support_keys", "support_deliveries", "db_worker"} <= set(ran)
    listed = run_command(as_run("python manage.py support_keys list", values), checkout, env)
    assert first_run.demo_key[:11] in listed  # the README's revoke took another key


def test_links_and_mail_go_to_the_address_it_serves(first_run):
    response = requests.post(
        f"{first_run.url}/api/v1/create_support_ticket",
        json={"email_address": "jane@example.com", "subject": "Where am I?", "body": "?",
              "account_id": str(ACCOUNT)},
        auth=(first_run.demo_key, ""), timeout=30,
    )  # fmt: skip

    assert response.status_code == 200, response.text
    link = response.json()["url"]
    assert link.startswith(f"{first_run.url}/support/tickets/")
    assert requests.get(link, timeout=30).status_code == 200
    # The worker prints the confirmation on the console, with the same link.
    deadline = time.monotonic() + 60
    while link not in first_run.output.replace("=\n", "") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert link in first_run.output.replace("=\n", ""), first_run.output[-3000:]


def test_served_by_hand_on_another_port_links_there(first_run, checkout, database):
    # scripts/run wrote the address it serves to .env, for what runs without a request.
    assert f"SUPPORT_PUBLIC_URL={first_run.url}" in (checkout / ".env").read_text()
    # A user who sets no address of the desk (the variable empty: it wins over .env) and
    # serves on a port of their choosing: links follow the request.
    port = free_port()
    server = subprocess.Popen(
        [".venv/bin/python", "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=checkout, env=user_env(**database, SUPPORT_PUBLIC_URL=""), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(150):
            if not port_is_free(port):
                break
            time.sleep(0.1)
        response = requests.get(
            f"http://127.0.0.1:{port}/api/v1/get_support_tickets",
            auth=(first_run.demo_key, ""), timeout=30,
        )  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)

    assert response.status_code == 200, response.text
    urls = [ticket["url"] for ticket in response.json()["tickets"]]
    assert urls and all(url.startswith(f"http://127.0.0.1:{port}/support/") for url in urls)


def test_a_run_on_a_taken_port_stops_before_its_banner_and_key(first_run, checkout, database):
    keys_before = run_command(
        as_run("python manage.py support_keys list --all", {}), checkout, user_env(**database)
    )

    second = Run(checkout, user_env(**database), port=first_run.port)
    code = second.process.wait(120)

    assert code != 0
    assert f"Port {first_run.port} is taken" in second.output and "PORT=" in second.output
    assert "Demo API key" not in second.output
    keys_after = run_command(
        as_run("python manage.py support_keys list --all", {}), checkout, user_env(**database)
    )
    assert keys_after == keys_before  # no key made, none revoked
    assert requests.get(first_run.url, timeout=30).status_code == 200  # the first serves on


def test_stopped_by_its_pid_it_leaves_nothing_and_runs_again(first_run, checkout, database):
    started = first_run.started()
    assert len(alive(started)) >= 2  # the worker and the web server, at least

    first_run.stop()  # SIGTERM to the script's own pid, as `kill <pid>` sends

    assert_all_ended(started, first_run.port)
    again = Run(checkout, user_env(**database), port=first_run.port, own_group=True)
    try:
        again.wait_until_serving()
        old, new = first_run.demo_key, again.demo_key
        answers = {
            key: requests.get(
                f"{again.url}/api/v1/get_support_tickets", auth=(key, ""), timeout=30
            ).status_code
            for key in (old, new)
        }
        assert answers == {old: 401, new: 200}  # one live demo key
        # This run's banner names another command: how to set a new password.
        commands = printed_commands(again.output.split("Support desk on", 1)[1])
        assert any("changepassword" in command for command in commands)
        for command in commands:
            run_command(as_run(command, {}), checkout, user_env(**database))

        # Ctrl-C: the terminal sends SIGINT to the script's process group.
        started = again.started()
        os.killpg(again.process.pid, signal.SIGINT)
        again.process.wait(60)
        assert_all_ended(started, again.port)
    finally:
        again.stop()


def test_a_worker_started_by_hand_sends_with_links_to_the_desk(first_run, checkout, database):
    # Nothing of scripts/run running any more (the previous test stopped its runs): a user
    # starts the worker by hand, in another shell, as the README prints it.
    first_run.stop()
    env = user_env(**database)
    [worker] = [c for e, block in readme_blocks() if not e for c in block if "db_worker" in c]
    filed = run_command(
        as_run('python manage.py shell -c "<filing>"', {"<filing>": FILING}), checkout, env
    )
    ticket_path = filed.strip().splitlines()[-1]
    assert ticket_path.startswith("/support/tickets/")

    process = subprocess.Popen(
        as_run(worker, {}), cwd=checkout, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    link = f"{first_run.url}{ticket_path}"
    deadline = time.monotonic() + 60
    while link not in "".join(lines).replace("=\n", "") and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)
    reader.join(10)

    output = "".join(lines).replace("=\n", "")
    assert link in output, output[-3000:]  # the confirmation, printed on the console
    assert "ImproperlyConfigured" not in output


# A ticket filed as the form files one, its link's path printed.
FILING = (
    "from support.tickets import TicketRequest, file_ticket; "
    "print(file_ticket(TicketRequest(email_address='w@example.com', subject='By hand', "
    "body='Help'), channel='form').ticket.requester_path())"
)


def assert_all_ended(pids: set[int], port: int) -> None:
    deadline = time.monotonic() + 30
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pids), f"left running: {alive(pids)}"
    assert port_is_free(port)


# --- production, as the README's Production section says


def production_env(exports: dict[str, str], database: dict[str, str], tmp: Path) -> dict:
    """The README's `export` line with its `...` filled as an operator would."""
    filled = {}
    for name, value in exports.items():
        if "..." not in value:
            filled[name] = value
        elif name == "DJANGO_SECRET_KEY":
            filled[name] = secrets.token_urlsafe(50)
        elif name == "DATABASE_URL":
            filled[name] = database.get("DATABASE_URL") or f"sqlite:///{tmp / 'prod.sqlite3'}"
        else:
            raise AssertionError(f"teach this test a value for {name}={value}")
    return filled


def test_production_commands_work_and_start_up_says_what_is_missing(tmp_path, database):
    # A machine of its own: a fresh checkout, no .env from scripts/run.
    checkout = fresh_checkout(tmp_path / "production")
    [(exports, commands)] = [block for block in readme_blocks() if block[0]]
    env = user_env(**production_env(exports, database, tmp_path))
    assert "DJANGO_DEBUG" not in env and env["SUPPORT_PUBLIC_URL"].startswith("https://")

    for command in commands:
        run_command(as_run(command, {}), checkout, env)
    deploy = run_command(as_run("python manage.py check --deploy", {}), checkout, env)
    assert not re.search(r"support\.[EW]\d", deploy)  # nothing of the app's to fix

    # Without the desk's address it stops at once, and says what to set.
    unset = {k: v for k, v in env.items() if k != "SUPPORT_PUBLIC_URL"}
    stopped = subprocess.run(
        [".venv/bin/python", "manage.py", "check", "--deploy"],
        cwd=checkout, env=unset, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert stopped.returncode != 0
    assert "support.E007" in stopped.stderr and "SUPPORT_PUBLIC_URL=" in stopped.stderr
