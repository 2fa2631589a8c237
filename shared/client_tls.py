"""TLS files a client uses to reach the cloud service: the edge's uplink, and the launchers' health checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from shared.config import UplinkConfig


@dataclass(frozen=True)
class ClientTls:
    """TLS to the cloud: the CA to trust, and a client certificate for mTLS."""

    ca: Path
    cert: Path | None = None
    key: Path | None = None
    server_name: str = ""

    @classmethod
    def from_config(cls, uplink: UplinkConfig) -> ClientTls | None:
        if not uplink.tls_ca:
            return None
        cert = Path(uplink.tls_cert) if uplink.tls_cert else None
        key = Path(uplink.tls_key) if uplink.tls_key else None
        return cls(Path(uplink.tls_ca), cert, key, uplink.tls_server_name)

    def credentials(self) -> grpc.ChannelCredentials:
        for path in (self.ca, self.cert, self.key):
            if path is not None and not path.is_file():
                raise FileNotFoundError(f"TLS file not found: {path}")
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca.read_bytes(),
            private_key=self.key.read_bytes() if self.key else None,
            certificate_chain=self.cert.read_bytes() if self.cert else None,
        )
