"""Offline outbox: degraded answers survive SIGKILL and are re-asked exactly once when the cloud returns."""

from __future__ import annotations

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.launchers import CloudProcess, DaemonProcess
from shared.rpc import inference_pb2 as pb
from shared.rpc import inference_pb2_grpc
from shared.service_process import free_port
from tests.edge.conftest import ask_daemon
from tests.waiting import eventually_sync

pytestmark = pytest.mark.model


def _passes(base_url: str) -> float:
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "tandem_reconciler_passes_total"
    )


QUESTIONS = ["What is the capital of Mali?", "What is the capital of Chad?", "What is the capital of Laos?"]


def test_outbox_survives_kill_and_reconciles_exactly_once(tmp_path):
    cloud_port = free_port()
    flags = [
        "--cloud-address",
        f"127.0.0.1:{cloud_port}",
        "--threshold",
        "1.0",
        "--threads",
        "2",
        "--outbox-interval-s",
        "0.3",
        "--cloud-breaker-reset-s",
        "0.5",
        "--cloud-timeout-s",
        "10",
    ]
    daemon = DaemonProcess(flags, data_dir=str(tmp_path), log_path=tmp_path / "daemon.log").start()
    try:
        ids = []
        for question in QUESTIONS:
            reply = ask_daemon(daemon.base_url, question)
            assert reply["tandem"]["degraded"] and reply["tandem"]["served_by"] == "edge"
            ids.append(reply["tandem"]["request_id"])
        assert daemon.healthz()["outbox_pending"] == len(QUESTIONS)
    finally:
        daemon.kill()

    daemon = DaemonProcess(flags, data_dir=str(tmp_path), log_path=tmp_path / "daemon.log").start()
    try:
        assert daemon.healthz()["outbox_pending"] == len(QUESTIONS), "nothing lost across SIGKILL"
        with CloudProcess(
            ["--backend", "llamacpp", "--threads", "1"], port=cloud_port, log_path=tmp_path / "cloud.log"
        ) as cloud:

            def reconciled() -> list:
                items = httpx.get(f"{daemon.base_url}/v1/tandem/reconciled", params={"since": 0}).json()["data"]
                return items if len(items) == len(QUESTIONS) else []

            items = eventually_sync(reconciled, 90, "every queued question reconciled")
            assert sorted(i["id"] for i in items) == sorted(ids)
            assert all(i["cloud_answer"] for i in items)
            passes = _passes(daemon.base_url)  # a few more reconciler passes: nothing is asked again
            eventually_sync(lambda: _passes(daemon.base_url) >= passes + 3, 30, "three more reconciler passes")
            with grpc.insecure_channel(cloud.address) as channel:
                status = inference_pb2_grpc.InferenceServiceStub(channel).GetServerStatus(pb.ServerStatusRequest())
            assert status.served_requests == len(QUESTIONS), "each queued question re-asked exactly once"
            assert daemon.healthz()["outbox_pending"] == 0

            later = httpx.get(
                f"{daemon.base_url}/v1/tandem/reconciled", params={"since": max(i["reconciled_at"] for i in items)}
            ).json()["data"]
            assert later == []
            repeat = ask_daemon(daemon.base_url, QUESTIONS[0])
            assert repeat["tandem"]["served_by"] == "cache", "the reconciled answer is in the cache"
    finally:
        daemon.stop()
