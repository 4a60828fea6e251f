"""The project's settings, with the benchmark's floor view added to the URLs."""

from config.settings import *

ROOT_URLCONF = "bench.floor_urls"
