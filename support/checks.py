"""Start-up checks of the app's settings (`manage.py check`)."""

from urllib.parse import urlsplit

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import SimpleRateThrottle

from .conf import get_setting


@register()
def check_settings(app_configs, **kwargs) -> list[Error]:
    errors = []
    try:
        site = urlsplit(str(get_setting("SITE_URL")))
    except ImproperlyConfigured as err:
        errors.append(
            Error(
                str(err),
                hint="The platform's base URL, e.g. SUPPORT = {'SITE_URL': 'https://cocalc.com'}.",
                id="support.E001",
            )
        )
    else:
        if site.scheme not in ("http", "https") or not site.netloc:
            errors.append(
                Error(
                    "SUPPORT['SITE_URL'] must be an absolute http(s) URL.",
                    hint="For example 'https://cocalc.com'.",
                    id="support.E002",
                )
            )
    rate = get_setting("API_RATE")
    if rate:
        try:
            SimpleRateThrottle.parse_rate(None, rate)
        except (ValueError, KeyError, IndexError):
            errors.append(
                Error(
                    f"SUPPORT['API_RATE'] = {rate!r} is not a rate.",
                    hint="Use a rate such as '120/min', or None to turn rate limiting off.",
                    id="support.E003",
                )
            )
    max_bytes = get_setting("MAX_REQUEST_BYTES")
    if not isinstance(max_bytes, int) or max_bytes <= 0:
        errors.append(
            Error(
                "SUPPORT['MAX_REQUEST_BYTES'] must be a positive whole number.",
                id="support.E004",
            )
        )
    return errors
