"""Draft verification as the app sees it: escalations after a whole edge draft, through three daemons that differ
only in `--cloud-verify-draft` (off, exact, lenient), each question asked of all three in rotating order.

Each daemon drafts the whole answer (early escalation off, router and cache off, `tandem.threshold` 1.0 per
request, so every question escalates after its draft), then streams the cloud's answer: the time to the first
content chunk and to the end of the answer are the app's, over the daemon's OpenAI-compatible HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile

import httpx

from benchmarks.stream_latency import daemon_stream
from edge.calibration.labeled import LabeledItem
from shared.launchers import DaemonProcess

MODES = ("off", "exact", "lenient")


def _flags(cloud_address: str, api_key: str, mode: str, alpha: float, threads: int) -> list[str]:
    flags = ["--cloud-address", cloud_address, "--threads", str(threads), "--log-level", "WARNING"]
    flags += ["--cloud-verify-draft", mode, "--cloud-verify-alpha", str(alpha), "--max-tokens", "128"]
    flags += ["--early-escalation", "false", "--router-enabled", "false", "--cache-enabled", "false"]
    return flags + (["--cloud-api-key", api_key] if api_key else [])


async def through_daemons(
    cloud_address: str, api_key: str, items: list[LabeledItem], alpha: float, threads: int
) -> dict[str, dict[str, float]]:
    """Per mode: p50 ms to the first content chunk and to the end of the answer."""
    first: dict[str, list[float]] = {m: [] for m in MODES}
    total: dict[str, list[float]] = {m: [] for m in MODES}
    with contextlib.ExitStack() as stack:
        http = {}
        for mode in MODES:
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"tandem-verify-{mode}-"))
            daemon = stack.enter_context(
                DaemonProcess(_flags(cloud_address, api_key, mode, alpha, threads), data_dir=data_dir)
            )
            http[mode] = stack.enter_context(httpx.Client(base_url=daemon.base_url, timeout=600))
        for i, item in enumerate(items):
            for mode in MODES[i % 3 :] + MODES[: i % 3]:  # rotating, so no mode always runs first
                ms_first, ms_total, _, served_by = await asyncio.to_thread(
                    daemon_stream, http[mode], item.question, {"threshold": 1.0}
                )
                if served_by != "cloud":
                    raise RuntimeError(f"{mode}: expected an escalation, the {served_by} answered")
                first[mode].append(ms_first)
                total[mode].append(ms_total)
    return {
        m: {"first_chunk_ms": statistics.median(first[m]), "end_to_end_ms": statistics.median(total[m])} for m in MODES
    }
