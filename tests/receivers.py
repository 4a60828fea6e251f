"""Real servers on local ports for tests: an SMTP server and an HTTP endpoint that record
what they receive and can be made to fail."""

import asyncio
import email
import email.policy
import json
import threading
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


class SmtpServer:
    """An SMTP server on 127.0.0.1. `messages` holds what it accepted; while `failing`,
    it answers every message with a temporary error (451), as a server in trouble does."""

    def __init__(self, port: int = 0, delay: float = 0):
        self.messages: list[Message] = []
        self.failing = False
        self.delay = delay  # seconds to take over each message, like a real server
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=port or _free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failing:
            return "451 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.lock:
            self.messages.append(message)
        return "250 OK"


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """An HTTP server on 127.0.0.1 that records requests. `respond(received)` returns
    (status, headers, JSON body); by default 200 and {}."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    respond: object = None

    def start(self) -> "HttpReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(
                    self.command, self.path, dict(self.headers), self.rfile.read(length)
                )
                receiver.requests.append(received)
                status, headers, body = (
                    receiver.respond(received) if receiver.respond else (200, {}, {})
                )
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port or _free_port()), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def zendesk_stand_in():
    """A `respond` for HttpReceiver that answers like Zendesk's Tickets API, honouring
    Idempotency-Key as Zendesk does: the same key gets the ticket made the first time.
    Its `made` maps each key to the id of the one ticket made for it; uploads (the
    Uploads API) get a token each, `upload-<n>`."""
    made: dict[str, int] = {}
    uploads: list[Received] = []
    lock = threading.Lock()

    def respond(received):
        if received.method == "PUT":
            return 200, {}, {"ticket": {}}
        if received.path.startswith("/api/v2/uploads.json"):
            with lock:
                uploads.append(received)
                token = f"upload-{len(uploads)}"
            return 201, {}, {"upload": {"token": token, "attachment": {"id": len(uploads)}}}
        with lock:
            key = received.headers["Idempotency-Key"]
            made.setdefault(key, 1000 + len(made))
        return 201, {}, {"ticket": {"id": made[key]}}

    respond.made = made
    respond.uploads = uploads
    return respond


class HostSite:
    """Another web site, on its own origin (http://127.0.0.1:<port>): serves `pages`, a
    dict of path to HTML, as a platform embedding the help widget would."""

    def __init__(self):
        self.pages: dict[str, str] = {}

    def start(self) -> "HostSite":
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                html = pages.get(self.path.split("?")[0])
                body = (html or "not found").encode()
                self.send_response(200 if html else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
