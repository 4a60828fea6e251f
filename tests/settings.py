"""The project's settings, with what tests need: fast hashing, mail kept in memory."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-a-secret")

from config.settings import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run as soon as they are enqueued (on commit): tests see their effects at once.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SUPPORT = {
    **SUPPORT,
    "SITE_URL": "https://cocalc.com",
    "PUBLIC_URL": "http://testserver",  # the test client's host
    "API_RATE": None,
    "STAFF_EMAILS": [],
    "FORWARD_BACKEND": None,
}
