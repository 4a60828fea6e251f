"""The project deployed for real, in processes of its own: gunicorn, task workers and
their own database, as an operator runs them. For tests that need real processes."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """A database of its own (a SQLite file in `tmp`, or a fresh PostgreSQL database on
    the server of `postgres_url`), migrated, with processes started on demand."""

    def __init__(self, tmp: Path, postgres_url: str | None = None, **env: str):
        self.postgres_url = postgres_url
        if postgres_url:
            self.db_name = f"support_stack_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(postgres_url, autocommit=True) as db:
                db.execute(f'CREATE DATABASE "{self.db_name}"')
            database_url = postgres_url.rsplit("/", 1)[0] + "/" + self.db_name
        else:
            database_url = f"sqlite:///{tmp / 'db.sqlite3'}"
        self.database_url = database_url
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "CACHE_URL": f"filecache://{tmp / 'cache'}",
            "DJANGO_SECRET_KEY": "stack-test",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SUPPORT_API_RATE": "",
            # What production must set (support.E001, E007), or it does not start.
            "SUPPORT_SITE_URL": "https://cocalc.com",
            "SUPPORT_PUBLIC_URL": "http://support.example.com",
            **env,
        }
        self.processes: list[subprocess.Popen] = []
        # Set to a path to collect the output of the processes started from then on.
        self.log_file: Path | None = None
        self.manage("migrate", "--noinput")

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip

    def start(self, *args: str, output: Path | None = None) -> subprocess.Popen:
        """Start `python *args`; its standard output and error go to the file `output`, or
        else to `log_file` if the stack has one."""
        output = output or self.log_file
        out = open(output, "ab") if output else None  # noqa: SIM115 (the child holds it)
        process = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=out, stderr=out
        )
        if out:
            out.close()  # the process has its own copy
        self.processes.append(process)
        return process

    def log(self) -> str:
        """What the processes wrote to `log_file` so far."""
        return self.log_file.read_text(errors="replace") if self.log_file else ""

    def serve(
        self,
        workers: int = 2,
        threads: int = 1,
        *,
        options: list[str] | None = None,
        output: Path | None = None,
        port: int | None = None,
    ) -> str:
        """Start gunicorn on `port` (or a free one), with `options` instead of the usual
        worker and log options; return its URL once it answers."""
        port = port or free_port()
        options = options or [
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ]
        self.start(
            "-m", "gunicorn", "config.wsgi", *options, "--bind", f"127.0.0.1:{port}",
            output=output,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                requests.get(f"{url}/api/v1/ping", timeout=5)  # a JSON 404, cheap
                return url
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def kill(self, process: subprocess.Popen) -> None:
        """Kill `process` at once, as a crash or an OOM killer would: no clean-up."""
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def query(self, sql: str) -> list[tuple]:
        if self.postgres_url:
            with psycopg.connect(self.database_url) as db:
                return db.execute(sql).fetchall()
        import sqlite3

        with sqlite3.connect(self.database_url.removeprefix("sqlite:///")) as db:
            return db.execute(sql).fetchall()

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.postgres_url:
            with psycopg.connect(self.postgres_url, autocommit=True) as db:
                db.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
