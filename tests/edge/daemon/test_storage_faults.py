"""The daemon's disk under stress: SIGKILL mid-write, a full disk, corrupt files at start.

Real daemon processes, a real cloud (llama.cpp backend) behind a fault proxy, real SQLite files.
"""

from __future__ import annotations

import resource
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from benchmarks.fault_proxy import FaultProxy
from shared.launchers import CloudProcess, DaemonProcess

pytestmark = pytest.mark.model

CLIENTS = 4
LOAD_S = 8.0


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    log = tmp_path_factory.mktemp("storage") / "cloud.log"
    with CloudProcess(["--backend", "llamacpp", "--threads", "1"], log_path=log) as c:
        yield c


def _daemon(data_dir: Path, cloud_address: str) -> DaemonProcess:
    flags = ["--cloud-address", cloud_address, "--threads", "1", "--cloud-timeout-s", "5"]
    flags += ["--cloud-breaker-failures", "1000", "--outbox-interval-s", "3600"]  # keep the outbox as written
    return DaemonProcess(flags, data_dir=str(data_dir), log_path=data_dir / "daemon.log")


def _ask(base_url: str, question: str, route: str = "cloud") -> dict:
    body = {"model": "tandem", "messages": [{"role": "user", "content": question}], "tandem": {"route": route}}
    reply = httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _sqlite_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "edge").rglob("*.sqlite"))


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def _ids(path: Path, table: str, column: str) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute(f"SELECT {column} FROM {table}")}


def test_sigkill_under_write_load_loses_nothing_acknowledged(tmp_path, cloud):
    with FaultProxy(cloud.host, cloud.port) as proxy:
        daemon = _daemon(tmp_path, proxy.address).start()
        acked: list[dict] = []
        asked: dict[str, str] = {}  # request id -> question
        stop = threading.Event()

        def client(n: int) -> None:
            i = 0
            while not stop.is_set():
                question = f"What is {n * 1000 + i} plus {i}?"
                try:
                    reply = _ask(daemon.base_url, question)
                except (httpx.HTTPError, AssertionError):
                    return  # the daemon died under us: only acknowledged replies count
                acked.append(reply)
                asked[reply["tandem"]["request_id"]] = question
                i += 1

        def flap() -> None:  # cloud answers (cache writes) and degraded ones (outbox writes), interleaved
            while not stop.is_set():
                proxy.heal()
                stop.wait(1.5)
                proxy.partition()
                stop.wait(0.5)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        threads.append(threading.Thread(target=flap))
        for t in threads:
            t.start()
        time.sleep(LOAD_S)
        daemon.kill()  # SIGKILL while writes are in flight
        stop.set()
        for t in threads:
            t.join(30)
        proxy.heal()

    degraded = {r["tandem"]["request_id"] for r in acked if r["tandem"]["degraded"]}
    cloud_answers = [r for r in acked if r["tandem"]["served_by"] == "cloud"]
    assert degraded and cloud_answers, "the load mixed outbox writes and cache writes"
    for path in _sqlite_files(tmp_path):
        assert _integrity(path) == "ok", path
    edge_dir = tmp_path / "edge"
    assert degraded <= _ids(edge_dir / "outbox.sqlite", "outbox", "id"), "every acknowledged degraded answer queued"
    served = _ids(edge_dir / "outcomes.sqlite", "served", "response_id")
    assert {r["tandem"]["request_id"] for r in acked} <= served

    restarted = _daemon(tmp_path, cloud.address).start()
    try:
        assert restarted.healthz()["outbox_pending"] >= len(degraded)
        again = _ask(restarted.base_url, asked[cloud_answers[0]["tandem"]["request_id"]], route="auto")
        assert again["tandem"]["served_by"] == "cache", "an acknowledged cloud answer survived in the cache"
    finally:
        restarted.stop()


def test_full_disk_keeps_answering_and_health_says_so(tmp_path, cloud):
    with _daemon(tmp_path, cloud.address) as daemon:
        pid = daemon.proc.pid
        limits = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, limits[1]))  # no file may grow: a full disk
        try:
            full = _ask(daemon.base_url, "What is the capital of Kenya?")
            assert full["tandem"]["served_by"] == "cloud" and full["choices"][0]["message"]["content"]
            edge = _ask(daemon.base_url, "What is the capital of Kenya?", route="edge")
            assert edge["tandem"]["served_by"] == "edge"
            health = httpx.get(f"{daemon.base_url}/healthz", timeout=10).json()
            assert health["status"] == "degraded" and not health["storage"]["ok"]
            assert health["storage"]["write_errors"] >= 1 and health["storage"]["last_error"]
        finally:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, limits)
        _ask(daemon.base_url, "What is the capital of Ghana?")  # space again: the next write succeeds
        health = httpx.get(f"{daemon.base_url}/healthz", timeout=10).json()
        assert health["storage"]["ok"] and health["status"] == "ok"
    for path in _sqlite_files(tmp_path):
        assert _integrity(path) == "ok", path


def test_corrupt_files_at_start_are_moved_aside_and_rebuilt(tmp_path, cloud):
    edge_dir = tmp_path / "edge"
    edge_dir.mkdir()
    for name in ("cache.sqlite", "outbox.sqlite"):
        (edge_dir / name).write_bytes(b"this is not a database" * 100)
    with _daemon(tmp_path, cloud.address) as daemon:
        recovered = daemon.healthz()["storage"]["recovered"]
        assert sorted(Path(r["file"]).name for r in recovered) == ["cache.sqlite", "outbox.sqlite"]
        assert all(Path(r["moved_to"]).exists() for r in recovered), "the damaged file is kept for inspection"
        _ask(daemon.base_url, "What is the capital of Norway?")
        assert _ask(daemon.base_url, "What is the capital of Norway?", route="auto")["tandem"]["served_by"] == "cache"
    for path in _sqlite_files(tmp_path):
        assert _integrity(path) == "ok", path
