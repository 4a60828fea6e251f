"""Files through real gunicorn: a chunked multipart body (no Content-Length, as HTTP
clients stream large uploads) with a file larger than the text's limit is read to disk and
stored; a chunked body past the files' limits is refused while it is read."""

import hashlib
import json
import os

import pytest
import requests
from django.db import connection
from urllib3 import encode_multipart_formdata

from tests.stack import Stack, free_port
from tests.test_chunked import chunks


@pytest.fixture(scope="module")
def served(tmp_path_factory, django_db_blocker):
    """gunicorn with attachments in a folder of its own; (url, key, stack)."""
    with django_db_blocker.unblock():
        postgres = connection.vendor == "postgresql"
        db = connection.settings_dict
    tmp = tmp_path_factory.mktemp("files")
    port = free_port()
    stack = Stack(
        tmp,
        f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres" if postgres else None,
        SUPPORT_CONFIRM_TO_REQUESTER="false",
        SUPPORT_ATTACHMENT_DIR=str(tmp / "attachments"),
        SUPPORT_ATTACHMENT_MAX_TOTAL_BYTES=str(4 * 1024 * 1024),
        SUPPORT_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    try:
        key = stack.manage("support_keys", "create", "--service").splitlines()[-1]
        yield stack.serve(workers=1, port=port), key, stack
    finally:
        stack.close()


def multipart(content: bytes, subject: str) -> tuple[bytes, str]:
    ticket = {"email_address": "jane@example.com", "subject": subject, "body": "big file"}
    return encode_multipart_formdata(
        [("ticket", (None, json.dumps(ticket).encode(), "application/json")),
         ("attachments", ("dump.bin", content, "application/octet-stream"))]
    )  # fmt: skip


def test_a_chunked_upload_larger_than_the_text_limit_is_stored(served):
    url, key, stack = served
    content = os.urandom(3 * 1024 * 1024)  # three times MAX_REQUEST_BYTES
    body, content_type = multipart(content, "chunked")

    response = requests.post(
        f"{url}/api/v1/create_support_ticket", data=chunks(body, 64 * 1024),
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type}, timeout=30,
    )  # fmt: skip

    assert response.status_code == 200, response.text
    [(name, size, digest)] = stack.query("SELECT name, size, sha256 FROM support_attachment")
    assert (name, size, digest) == ("dump.bin", len(content), hashlib.sha256(content).hexdigest())
    page = requests.get(response.json()["url"], timeout=10).text
    link = next(part.split('"')[0] for part in page.split('href="') if "/files/" in part)
    assert requests.get(f"{url}{link}", timeout=30).content == content


def test_a_chunked_body_past_the_files_limits_is_a_413(served):
    url, key, stack = served
    body, content_type = multipart(os.urandom(6 * 1024 * 1024), "too big")

    response = requests.post(
        f"{url}/api/v1/create_support_ticket", data=chunks(body, 64 * 1024),
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type}, timeout=30,
    )  # fmt: skip

    assert response.status_code == 413
    assert "send files of 20.0 MB at most, 4.0 MB in all" in response.json()["error"]
    assert stack.query("SELECT count(*) FROM support_ticket WHERE subject = 'too big'") == [(0,)]
