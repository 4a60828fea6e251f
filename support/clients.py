"""Who a request comes from, as the per-client rate limits count it."""

import ipaddress

from django.http import HttpRequest

from .conf import get_setting
from .requester import Identity

# An IPv6 subscriber gets a whole /64 (2^64 addresses to rotate through): count the prefix.
IPV6_PREFIX = 64


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the last address in SUPPORT["FORM_IP_HEADER"] (the one your own
    proxy added: earlier ones are whatever the client claimed)."""
    header = get_setting("FORM_IP_HEADER")
    if header:
        forwarded = request.META.get(header, "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


def client_key(request: HttpRequest, identity: Identity | None = None) -> str:
    """What a per-client limit counts for this request: the account of a verified
    `identity` (its e-mail if it names no account), so that a class behind one address
    is not one client; else the client's network: its IPv4 address, or its IPv6 /64."""
    if identity:
        if identity.get("account_id"):
            return f"account:{identity['account_id']}"
        return f"email:{identity['email'].lower()}"
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"ip:{address}"  # not an address (a misconfigured header): counted as sent
    if ip.version == 6:
        if ip.ipv4_mapped:  # ::ffff:192.0.2.1 is 192.0.2.1
            return f"ip:{ip.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{ip}/{IPV6_PREFIX}', strict=False)}"
    return f"ip:{ip}"
