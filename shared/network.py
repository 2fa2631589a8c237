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


def channel_target(address: str) -> str:
    """`host:port` (or `dns:///name:port`, every address of the name) as is; `ip:port,ip:port,...` becomes one
    static list of endpoints (gRPC resolves host names only one name per target)."""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    if len(parts) <= 1:
        return address.strip()
    families = set()
    for part in parts:
        host, _, port = part.rpartition(":")
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            raise ValueError(
                f"cloud address list entry '{part}' is not IP:port; for host names give one DNS name that "
                "resolves to every endpoint (dns:///name:port)"
            ) from None
        if not port.isdigit():
            raise ValueError(f"cloud address list entry '{part}' has no port")
        families.add(f"ipv{ip.version}")
    if len(families) > 1:
        raise ValueError("a cloud address list must be all IPv4 or all IPv6")
    return f"{families.pop()}:{','.join(parts)}"
