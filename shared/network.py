"""Address checks shared by the cloud service and the edge daemon."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """True only for addresses other machines cannot reach; names other than localhost count as reachable."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
