"""Uploading and downloading a large attachment: the server's memory, and upload throughput
next to a plain FileSystemStorage save of the same file.

Run from the repository root:

    .venv/bin/python bench/attachments.py [--megabytes 20] [--rounds 5] [--image]

What it does:

1. Deploys the project (tests/stack.py: DJANGO_DEBUG=false, SQLite in a temporary
   directory, attachments in a folder there) with gunicorn, one sync worker, so that the
   process that reads the upload and sends the download is one process to measure; with
   bench/floor_settings.py, whose `bench/upload` view is the least Django does to store an
   uploaded file (its own upload handlers, then FileSystemStorage.save(), nothing else).
2. Makes a file of --megabytes of random bytes (with --image: a PNG of random pixels of
   about that size, which the desk decodes to make its thumbnail) and warms the worker up
   with a small upload and download of the same kind.
3. Uploads the file --rounds times through the API (a multipart create_support_ticket:
   the ticket as JSON, the file as `attachments`), then downloads it through the ticket's
   private link, reading the answer in chunks and dropping them.
4. Prints the worker's peak memory (VmHWM, the high-water mark of its resident set, from
   /proc) after the warm-up, after the uploads and after the download, and how much it
   grew (the aim: under 5 MiB for a file of 20 MB); then the upload throughput in MB/s
   (median of the rounds, client to stored: the multipart parsing, checks and hashing
   included), and in the same run, as many uploads of the same file to `bench/upload`
   (the same HTTP path, a plain FileSystemStorage save behind it) and as many
   FileSystemStorage.save() calls of the file in this process (disk to disk), with the
   ratios.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from urllib3 import encode_multipart_formdata

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import Stack

MAKE_KEY = (
    "import uuid\nfrom support import keys\n"
    "print(keys.create_key(account_id=uuid.UUID('291f43c1-deae-431c-b763-712307fa6859'),"
    " name='bench')[1])\n"
)
MB = 1_000_000
MIB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--image", action="store_true", help="a PNG rather than random bytes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big = tmp / ("big.png" if args.image else "big.bin")
        make_file(big, int(args.megabytes * MB), image=args.image)
        small = tmp / ("small.png" if args.image else "small.bin")
        make_file(small, 200_000, image=args.image)
        stack = Stack(
            tmp,
            SUPPORT_ATTACHMENT_DIR=str(tmp / "attachments"),
            SUPPORT_ATTACHMENT_MAX_BYTES=str(int(args.megabytes * MB) + MIB),
            SUPPORT_CONFIRM_TO_REQUESTER="false",
            DJANGO_SETTINGS_MODULE="bench.floor_settings",
            BENCH_UPLOAD_DIR=str(tmp / "floor"),
        )
        try:
            key = stack.manage("shell", "-c", MAKE_KEY).split()[-1]
            stack.log_file = tmp / "desk.log"
            url = stack.serve(workers=1)
            worker = only_worker(stack.processes[-1].pid)
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {key}"

            download(session, url, upload(session, url, small)[0])  # warm-up
            floor_upload(url, small)
            warm = peak_kib(worker)
            seconds, ticket_url = [], None
            for _ in range(args.rounds):
                ticket_url, took = upload(session, url, big)
                seconds.append(took)
            after_upload = peak_kib(worker)
            download(session, url, ticket_url)
            after_download = peak_kib(worker)
            floor = [floor_upload(url, big) for _ in range(args.rounds)]
        finally:
            stack.close()
        plain = plain_saves(big, tmp / "plain", args.rounds)

    size_mb = args.megabytes
    upload_rate = size_mb / statistics.median(seconds)
    floor_rate = size_mb / statistics.median(floor)
    save_rate = size_mb / statistics.median(plain)
    print(f"file: {size_mb:g} MB of {'PNG pixels' if args.image else 'random bytes'}")
    print("worker's peak memory (VmHWM):")
    print(f"  after warm-up          {warm / 1024:8.1f} MiB")
    print(f"  after {args.rounds} uploads        {after_upload / 1024:8.1f} MiB"
          f"   (+{(after_upload - warm) / 1024:.1f} MiB)")  # fmt: skip
    print(f"  after the download     {after_download / 1024:8.1f} MiB"
          f"   (+{(after_download - warm) / 1024:.1f} MiB in all)")  # fmt: skip
    print(
        f"upload through the API:                {upload_rate:7.1f} MB/s (median of {args.rounds})"
    )
    print(f"upload to a plain FileSystemStorage:   {floor_rate:7.1f} MB/s   (bench/upload)")
    print(f"FileSystemStorage.save(), no HTTP:     {save_rate:7.1f} MB/s   (disk to disk)")
    print(f"ratios: API / plain upload {upload_rate / floor_rate:.2f}, "
          f"API / plain save {upload_rate / save_rate:.2f}")  # fmt: skip


def make_file(path: Path, size: int, *, image: bool) -> None:
    if not image:
        with path.open("wb") as out:
            for start in range(0, size, MIB):
                out.write(os.urandom(min(MIB, size - start)))
        return
    from PIL import Image

    side = int((size / 3) ** 0.5)  # random RGB pixels hardly compress: ~3 bytes each
    pixels = random.Random(1).randbytes(side * side * 3)
    Image.frombytes("RGB", (side, side), pixels).save(path, "PNG", compress_level=1)


def upload(session: requests.Session, url: str, path: Path) -> tuple[str, float]:
    """File a ticket with `path` attached; the ticket's private link, and the seconds the
    request took (the body made beforehand)."""
    ticket = {
        "email_address": "bench@example.com", "subject": f"bench {uuid.uuid4()}",
        "body": "a large file",
    }  # fmt: skip
    body, content_type = encode_multipart_formdata(
        [("ticket", (None, json.dumps(ticket).encode(), "application/json")),
         ("attachments", (path.name, path.read_bytes(), "application/octet-stream"))]
    )  # fmt: skip
    started = time.perf_counter()
    response = session.post(
        f"{url}/api/v1/create_support_ticket", data=body, headers={"Content-Type": content_type}
    )
    took = time.perf_counter() - started
    response.raise_for_status()
    return response.json()["url"].replace("http://support.example.com", url), took


def floor_upload(url: str, path: Path) -> float:
    """Seconds to upload `path` to the floor view, as `upload` sends it."""
    body, content_type = encode_multipart_formdata(
        [("attachments", (path.name, path.read_bytes(), "application/octet-stream"))]
    )
    started = time.perf_counter()
    response = requests.post(
        f"{url}/bench/upload", data=body, headers={"Content-Type": content_type}
    )
    response.raise_for_status()
    return time.perf_counter() - started


def download(session: requests.Session, url: str, ticket_url: str) -> int:
    """Download the ticket's first file in chunks, dropping them; its size."""
    page = requests.get(ticket_url).text
    path = page.split('href="', 1)[1].split("/files/", 1)[1].split("/", 1)[0]
    size = 0
    with requests.get(f"{ticket_url}files/{path}/", stream=True) as response:
        response.raise_for_status()
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
    return size


def plain_saves(path: Path, folder: Path, rounds: int) -> list[float]:
    """Seconds of FileSystemStorage.save() of `path`, from an open file, `rounds` times."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure()
        django.setup()
    from django.core.files import File
    from django.core.files.storage import FileSystemStorage

    storage = FileSystemStorage(location=folder)
    seconds = []
    for _ in range(rounds):
        with path.open("rb") as source:
            started = time.perf_counter()
            storage.save(uuid.uuid4().hex, File(source))
            seconds.append(time.perf_counter() - started)
    return seconds


def only_worker(master: int) -> int:
    """The pid of the one worker gunicorn's `master` started."""
    for _ in range(100):
        children = [
            int(entry.name)
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _parent(int(entry.name)) == master
        ]
        if children:
            return children[0]
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def peak_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


if __name__ == "__main__":
    main()
