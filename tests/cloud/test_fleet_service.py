"""Fleet learning through the real service (session cloud, real gRPC): escalations recorded only with consent
and only as shared, label uploads, and each tenant served its own signed router, never another's."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import replace

import numpy as np

from edge.uplink.client import CloudClient
from shared.fleet_artifact import FleetManifest, FleetRows
from shared.rpc import inference_pb2 as pb
from shared.types import EdgeContext, GenerationRequest, SamplingParams
from tests.cloud.fleet_fixture import records_of, write_router
from tests.settings import API_KEY

QUESTION = "What is the capital of France?"
SHARED = EdgeContext("Paris", 0.4, "mean_logprob", "edge", "embeddings", (0.5,) * 8, "minilm")


async def ask(address: str, key: str, rid: str, context: EdgeContext) -> None:
    async with CloudClient(address, api_key=key, timeout_s=60) as client:
        await client.generate(
            GenerationRequest(rid, SamplingParams(max_tokens=8), question=QUESTION, edge_context=context)
        )


async def test_escalations_are_recorded_with_consent_and_only_as_much_as_the_device_shares(
    vllm_cloud, fleet_tenants, hermetic_data_dir
):
    fleet = hermetic_data_dir / "fleet"
    await ask(vllm_cloud.address, fleet_tenants["gamma"], "fleet-gamma", SHARED)  # gamma has not consented
    await ask(vllm_cloud.address, fleet_tenants["acme"], "fleet-off", replace(SHARED, fleet_share="off"))
    await ask(vllm_cloud.address, fleet_tenants["acme"], "fleet-embeddings", SHARED)
    await ask(vllm_cloud.address, fleet_tenants["acme"], "fleet-text", replace(SHARED, fleet_share="text"))
    rows = await records_of(
        fleet, "acme", lambda rs: {"fleet-embeddings", "fleet-text"} <= {r["record_id"] for r in rs}
    )
    by_id = {r["record_id"]: r for r in rows if r["record_id"].startswith("fleet-")}
    assert set(by_id) == {"fleet-embeddings", "fleet-text"}, "a device sharing nothing leaves nothing"
    kept = by_id["fleet-embeddings"]
    assert kept["question"] is None and kept["draft"] is None and kept["answer"] is None, "no text unless shared"
    assert kept["embedding"] == [0.5] * 8 and kept["agreement"] is not None and kept["confidence"] == 0.4
    text = by_id["fleet-text"]
    assert text["question"] == QUESTION and text["draft"] == "Paris" and text["answer"]
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert (fleet / "records" / "tenant=acme" / f"day={day}").is_dir()
    assert not (fleet / "records" / "tenant=gamma").exists()
    port = vllm_cloud.flags[vllm_cloud.flags.index("--metrics-port") + 1]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        metrics = reply.read().decode()
    assert 'tandem_fleet_records_written_total{kind="escalation",tenant="acme"}' in metrics


async def test_labels_are_uploaded_only_with_consent(vllm_cloud, fleet_tenants, hermetic_data_dir):
    labels = [
        pb.FleetLabel(question_embedding=[0.1] * 8, embedder="minilm", edge_correct=1.0, label_id="l1"),
        pb.FleetLabel(embedder="minilm", edge_correct=1.0, label_id="l2"),  # no embedding: not a usable label
    ]
    for tenant, recorded in (("gamma", False), ("beta", True)):
        async with CloudClient(vllm_cloud.address, api_key=fleet_tenants[tenant]) as client:
            ack = await client.upload_labels(pb.LabelBatch(device="dev-1", labels=labels))
        assert ack.recorded == recorded and ack.accepted == (1 if recorded else 0)
    rows = await records_of(hermetic_data_dir / "fleet", "beta", lambda rs: any(r["kind"] == "label" for r in rs))
    label = next(r for r in rows if r["kind"] == "label")
    assert label["record_id"] == "dev-1:l1" and label["edge_correct"] == 1.0 and label["source"] == "feedback"


async def test_each_tenant_is_served_its_own_router_and_only_a_newer_one(vllm_cloud, fleet_tenants, hermetic_data_dir):
    fleet = hermetic_data_dir / "fleet"
    rows = FleetRows(np.eye(2, 4, dtype=np.float32), np.ones(2), np.zeros(2), np.array(["feedback"] * 2))
    acme = write_router(fleet, "acme", rows, "minilm")
    beta = write_router(fleet, "beta", rows, "minilm")
    for tenant, version in (("acme", acme), ("beta", beta)):
        async with CloudClient(vllm_cloud.address, api_key=fleet_tenants[tenant]) as client:
            got = await client.fleet_router(0, f"{tenant}-device")
            assert got.version == version and FleetManifest.from_bytes(got.manifest).tenant == tenant
            assert (await client.fleet_router(version, f"{tenant}-device")).version == 0, "nothing newer"
    for key in (fleet_tenants["gamma"], API_KEY):  # no router of its own: never another tenant's
        async with CloudClient(vllm_cloud.address, api_key=key) as client:
            assert (await client.fleet_router(0, "other")).version == 0
    served = json.loads((fleet / "served.json").read_text())
    assert served["acme"]["acme-device"]["version"] == acme
