"""Local receivers for the deliveries benchmark: an SMTP server and a webhook endpoint.

Both run in threads of the calling process and only count what they receive, so that the
benchmark can check that every delivery the worker marked sent arrived exactly once:

- `SmtpReceiver`: aiosmtpd on 127.0.0.1, answers 250 to every message and counts
  messages, recipients and distinct Message-IDs;
- `WebhookReceiver`: http.server.ThreadingHTTPServer on 127.0.0.1, answers 200 to every
  POST and counts requests, distinct X-Support-Delivery ids and signatures that do not
  verify (see support/backends/webhook.py for the scheme, re-implemented here on purpose).
"""

import hashlib
import hmac
import logging
import threading
from collections import Counter
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


class SmtpReceiver:
    """An SMTP server on 127.0.0.1:`port` that accepts and counts every message."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._lock = threading.Lock()
        self._parser = BytesHeaderParser()
        self.reset()
        # aiosmtpd logs every connection at INFO; the benchmark makes thousands.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        # A fixed host name: by default each session looks up this machine's FQDN.
        self._controller = Controller(
            self, hostname="127.0.0.1", port=port, server_hostname="localhost"
        )

    def reset(self) -> None:
        with self._lock:
            self.messages = 0
            self.recipients = 0
            self.message_ids: Counter = Counter()

    async def handle_DATA(self, server, session, envelope) -> str:
        message_id = self._parser.parsebytes(envelope.content).get("Message-ID", "")
        with self._lock:
            self.messages += 1
            self.recipients += len(envelope.rcpt_tos)
            self.message_ids[message_id] += 1
        return "250 OK"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 (a free port) that answers 200 to every POST."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self._lock = threading.Lock()
        self.reset()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.record(self.headers, body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args) -> None:
                pass  # one line per request on stderr otherwise

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def reset(self) -> None:
        with self._lock:
            self.posts = 0
            self.bad_signatures = 0
            self.delivery_ids: Counter = Counter()

    def record(self, headers, body: bytes) -> None:
        timestamp = headers.get("X-Support-Timestamp", "")
        digest = hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256)
        good = hmac.compare_digest(
            headers.get("X-Support-Signature", ""), "sha256=" + digest.hexdigest()
        )
        with self._lock:
            self.posts += 1
            self.bad_signatures += not good
            self.delivery_ids[headers.get("X-Support-Delivery", "")] += 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
