"""A URLconf with a health check beside a page, both through support.throttling, as
support/urls.py would hold them (tests/test_throttling.py)."""

from django.http import HttpResponse
from django.urls import path

from support.throttling import exempt, throttle_patterns


def health(request):
    return HttpResponse("ok")


urlpatterns = throttle_patterns([path("health/", exempt(health)), path("page/", health)])
