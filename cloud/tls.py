"""Server TLS for the gRPC service: certificates reloaded on change, mTLS when a client CA is given."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import grpc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    client_ca: Path | None = None

    def check(self) -> None:
        for path in (self.cert, self.key, self.client_ca):
            if path is not None and not path.is_file():
                raise FileNotFoundError(f"TLS file not found: {path}")

    def _stamp(self) -> tuple[float, ...]:
        return tuple(os.stat(p).st_mtime_ns for p in (self.cert, self.key, self.client_ca) if p is not None)

    def _config(self) -> grpc.ServerCertificateConfiguration:
        return grpc.ssl_server_certificate_configuration(
            [(self.key.read_bytes(), self.cert.read_bytes())],
            root_certificates=self.client_ca.read_bytes() if self.client_ca else None,
        )

    def credentials(self) -> grpc.ServerCredentials:
        """Credentials that pick up replaced certificate files at the next handshake, without a restart."""
        self.check()
        stamp = [self._stamp()]

        def fetch() -> grpc.ServerCertificateConfiguration | None:
            # Called by gRPC before each handshake; None keeps the current certificates.
            try:
                now = self._stamp()
                if now == stamp[0]:
                    return None
                config = self._config()
            except (OSError, ValueError) as exc:  # a half-rotated set keeps serving the old certificates
                log.warning(
                    "TLS files changed but could not be loaded; keeping the old ones", extra={"error": str(exc)}
                )
                return None
            stamp[0] = now
            log.info("TLS certificates reloaded", extra={"cert": str(self.cert)})
            return config

        return grpc.dynamic_ssl_server_credentials(
            self._config(), fetch, require_client_authentication=self.client_ca is not None
        )
