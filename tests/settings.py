"""The project's settings, with what tests need: fast hashing, mail kept in memory,
attachments in a temporary folder of their own."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-a-secret")

from config.settings import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks go to the database, as in production; tests that want them run call
# tests.conftest.run_worker(), which runs `manage.py db_worker --batch`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
SUPPORT = {
    **SUPPORT,
    "SITE_URL": "https://cocalc.com",
    "PUBLIC_URL": "http://testserver",  # the test client's host
    "API_RATE": None,
    "STAFF_EMAILS": [],
    "FORWARD_BACKEND": None,
    "DELIVERY_BACKOFF_SECONDS": 0,  # retries are due at once, so a worker's batch runs them
    # The form's guards are tested one by one (tests/test_form_guards.py); elsewhere a
    # test may send a form at once, and as often as it likes.
    "FORM_MIN_SECONDS": 0,
    "FORM_RATE": None,
    # Likewise the per-client and reply limits (tests/test_throttling.py).
    "CLIENT_RATE": None,
    "REPLY_RATE": None,
    "REPLY_CLIENT_RATE": None,
    "FRAME_ANCESTORS": ["https://cocalc.com"],
    "ATTACHMENT_DIR": tempfile.mkdtemp(prefix="support-attachments-"),
}
atexit.register(shutil.rmtree, SUPPORT["ATTACHMENT_DIR"], ignore_errors=True)
