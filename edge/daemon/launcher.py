"""Start `tandem-edge serve` as a child process and wait until /healthz answers (demo, tests, benchmarks)."""

from __future__ import annotations

import json
import urllib.request

from edge.daemon.server import READY_LINE_PREFIX
from shared.service_process import ServiceProcess


class DaemonProcess(ServiceProcess):
    """`with DaemonProcess(["--cloud-address", addr, "--data-dir", d]) as edge: edge.base_url`."""

    module = "edge.cli"
    ready_prefix = READY_LINE_PREFIX

    def __init__(self, flags: list[str] | None = None, data_dir: str | None = None, **kw) -> None:
        super().__init__(flags, **kw)
        # --data-dir belongs to the top-level parser, before the subcommand.
        self.args_before_flags = (*(("--data-dir", str(data_dir)) if data_dir else ()), "serve")

    @property
    def base_url(self) -> str:
        return f"http://{self.address}"

    def check_ready(self) -> None:
        self.healthz()

    def healthz(self) -> dict:
        with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=10) as reply:
            return json.loads(reply.read())
