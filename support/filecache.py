"""A file cache that can hold counters shared by the processes of one machine.

    CACHES = {"default": {"BACKEND": "support.filecache.FileCache",
                          "LOCATION": "/var/cache/support"}}

The project's default cache (config/settings.py puts it in place of Django's
FileBasedCache). Django's file cache is not fit for rate limits:

- at MAX_ENTRIES (300 by default) each write deletes a random third of the entries,
  live counters included, so a busy desk forgets how often a key was used;
- `incr` reads, adds and writes without a lock, so concurrent processes lose counts,
  and it writes the entry anew with the default timeout, forgetting its expiry;
- `add` checks, then writes: two processes can both add.

Here `add`, `incr` and `decr` hold an exclusive lock (one of LOCK_STRIPES lock files,
chosen by the key) across processes, and `incr` keeps the entry's expiry. Making room
deletes expired entries first and live ones only beyond MAX_ENTRIES (100,000 unless set),
least recently written first (counters in use are written on every request); it looks at
the directory at most once every CULL_SECONDS per process, rather than on every write.
"""

import os
import pickle
import tempfile
import time
import zlib
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.files import locks
from django.core.files.move import file_move_safe

LOCK_STRIPES = 64
DEFAULT_MAX_ENTRIES = 100_000
CULL_SECONDS = 10
# When culling live entries, go this far under MAX_ENTRIES, so it is not needed again soon.
CULL_MARGIN = 0.1

_next_cull: dict[str, float] = {}  # per cache directory, in this process


class FileCache(FileBasedCache):
    """Django's FileBasedCache with atomic `add`/`incr`/`decr`, expiry kept by `incr`,
    and culling that spares live entries (see the module's documentation)."""

    def __init__(self, dir, params):
        options = {"MAX_ENTRIES": DEFAULT_MAX_ENTRIES, **params.get("OPTIONS", {})}
        super().__init__(dir, {**params, "OPTIONS": options})

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        with self._locked(self._key_to_file(key, version)):
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None) -> int:
        fname = self._key_to_file(key, version)
        with self._locked(fname):
            try:
                with open(fname, "rb") as f:
                    expiry = pickle.load(f)
                    if expiry is not None and expiry < time.time():
                        raise FileNotFoundError(fname)
                    value = pickle.loads(zlib.decompress(f.read()))
            except (FileNotFoundError, EOFError):
                raise ValueError(f"Key '{key}' not found") from None
            value += delta
            self._replace(fname, expiry, value)
        return value

    def _replace(self, fname: str, expiry: float | None, value) -> None:
        """Write the entry anew, atomically (readers see the old file or the new one)."""
        fd, tmp_path = tempfile.mkstemp(dir=self._dir)
        renamed = False
        try:
            with open(fd, "wb") as f:
                f.write(pickle.dumps(expiry, self.pickle_protocol))
                f.write(zlib.compress(pickle.dumps(value, self.pickle_protocol)))
            file_move_safe(tmp_path, fname, allow_overwrite=True)
            renamed = True
        finally:
            if not renamed:
                os.remove(tmp_path)

    @contextmanager
    def _locked(self, fname: str):
        stripe = int(os.path.basename(fname)[:8], 16) % LOCK_STRIPES
        directory = os.path.join(self._dir, "locks")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with open(os.path.join(directory, f"{stripe:02d}.lock"), "ab") as lock:
            locks.lock(lock, locks.LOCK_EX)
            try:
                yield
            finally:
                locks.unlock(lock)

    def _cull(self) -> None:
        now = time.monotonic()
        if now < _next_cull.get(self._dir, 0.0):
            return
        _next_cull[self._dir] = now + CULL_SECONDS
        with os.scandir(self._dir) as entries:
            names = [e.path for e in entries if e.name.endswith(self.cache_suffix)]
        if len(names) < self._max_entries:
            return
        live = []
        for fname in names:
            try:
                with open(fname, "rb") as f:
                    if self._is_expired(f):  # deletes it
                        continue
                live.append((os.stat(fname).st_mtime, fname))
            except FileNotFoundError:
                continue
        excess = len(live) - self._max_entries
        if excess > 0:
            live.sort()
            for _, fname in live[: excess + int(self._max_entries * CULL_MARGIN)]:
                self._delete(fname)
