"""A device and its fleet through the real session cloud: its escalations and labels go up as far as it shares,
a signed router comes down and steers a device that has no labels of its own, a tampered one is refused with the
old router kept, and a swap under concurrent requests fails none of them."""

from __future__ import annotations

import asyncio

import numpy as np

from cloud.fleet.artifacts import ArtifactStore
from edge.cache.embeddings import SentenceEmbedder
from edge.core.protocols import FEEDBACK
from edge.core.query import Query
from tests.cloud.fleet_fixture import records_of, rows_near, write_router

GERMANY = "What is the capital of Germany?"


def fleet_agent(make_agent, cloud, tenants, fleet, **flags):
    return make_agent(
        cloud.address,
        cloud_api_key=tenants["acme"],
        fleet_public_key=str(fleet / "signing.pub"),
        cache_enabled=False,
        **flags,
    )


async def test_a_new_device_is_steered_by_its_fleets_router(vllm_cloud, fleet_tenants, hermetic_data_dir, make_agent):
    fleet = hermetic_data_dir / "fleet"
    agent = fleet_agent(make_agent, vllm_cloud, fleet_tenants, fleet, fleet_share="embeddings")
    namespace = agent.namespace()
    (vector,) = await namespace.labeled.route_vectors([GERMANY])
    assert namespace.status().router_labels == 0, "a new device: no labels of its own"
    assert namespace.labeled.advice(vector[None, :])[0].confidence is None, "so its router has nothing to say"
    # The fleet learned that the edge fails this kind of question and the cloud answers it.
    version = write_router(
        fleet, "acme", rows_near(vector, 12, edge_correct=0.0, cloud_correct=1.0), SentenceEmbedder.name
    )
    status = await agent.fleet.sync_once()
    assert status.version == version and status.rows == 12 and not status.refused and not status.error
    assert namespace.status().router_labels == 12
    (advice,) = namespace.labeled.advice(vector[None, :])
    assert advice.confidence is not None and advice.high < 0.5, "the fleet's rows say: send it to the cloud"

    # A tampered artifact (payload swapped after signing) is refused; the router in use stays.
    tampered = write_router(fleet, "acme", rows_near(vector, 3, 1.0, 0.0), SentenceEmbedder.name)
    store = ArtifactStore(fleet)
    other = write_router(fleet, "beta", rows_near(vector, 5, 1.0, 1.0), SentenceEmbedder.name)
    (store.root / "acme" / str(tampered) / "router.npz").write_bytes(
        (store.root / "beta" / str(other) / "router.npz").read_bytes()
    )
    status = await agent.fleet.sync_once()
    assert status.version == version and "SHA-256" in status.refused and namespace.status().router_labels == 12


async def test_a_swap_under_concurrent_requests_fails_none(vllm_cloud, fleet_tenants, hermetic_data_dir, make_agent):
    fleet = hermetic_data_dir / "fleet"
    agent = fleet_agent(make_agent, vllm_cloud, fleet_tenants, fleet, max_tokens=8)
    namespace = agent.namespace()
    (vector,) = await namespace.labeled.route_vectors([GERMANY])
    version = write_router(fleet, "acme", rows_near(vector, 8, 1.0, 1.0), SentenceEmbedder.name)
    questions = [f"What is the capital of {c}?" for c in ("Spain", "Italy", "Peru", "Chile", "Kenya", "Japan")]
    answers = [asyncio.create_task(namespace.answer(Query(question=q))) for q in questions]
    for _ in range(500):  # the swap must land while answers are being generated
        if agent.status().local_generations:
            break
        await asyncio.sleep(0.01)
    assert agent.status().local_generations, "no answer was in flight"
    status = await agent.fleet.sync_once()
    results = await asyncio.gather(*answers)
    assert status.version == version and all(r.answer for r in results)


async def test_labels_and_escalations_go_up_as_far_as_the_device_shares(
    vllm_cloud, fleet_tenants, hermetic_data_dir, make_agent
):
    fleet = hermetic_data_dir / "fleet"
    agent = fleet_agent(
        make_agent, vllm_cloud, fleet_tenants, fleet, fleet_share="text", threshold=1.0, early_escalation=False
    )
    namespace = agent.namespace()
    asked = "What is the capital of Norway?"
    result = await namespace.answer(Query(question=asked, max_tokens=8))
    assert result.served_by == "cloud"
    # The app's feedback on an answer is a label of this device: uploaded with its question (share = text).
    (vector,) = await namespace.labeled.route_vectors([asked])
    await namespace.labeled.learn([(asked, vector, False, True)])
    agent_store = agent.fleet.apps[""][0]
    await asyncio.to_thread(
        agent_store.add, question=asked, embedding=vector, edge_correct=True, cloud_correct=None, source=FEEDBACK
    )
    status = await agent.fleet.sync_once()
    assert status.uploaded == 1, "feedback goes up; calibration labels do not"

    def both(rows: list[dict]) -> bool:
        return any(r["kind"] == "label" and r["question"] == asked for r in rows) and any(
            r["kind"] == "escalation" and r["question"] == asked for r in rows
        )

    rows = await records_of(fleet, "acme", both)
    assert both(rows)
    escalation = next(r for r in rows if r["kind"] == "escalation" and r["question"] == asked)
    assert escalation["embedder"] == SentenceEmbedder.name and len(escalation["embedding"]) == 384
    assert np.isclose(escalation["confidence"], result.provenance.confidence)
    assert (await agent.fleet.sync_once()).uploaded == 1, "an acknowledged label is not sent again"
