"""Committed stubs must equal what protoc generates from proto/ now."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.rpc import codegen


def test_generated_stubs_are_fresh(tmp_path):
    generated = codegen.generate(tmp_path)
    assert {p.name for p in generated} == {"inference_pb2.py", "inference_pb2.pyi", "inference_pb2_grpc.py"}
    committed_dir = Path(codegen.__file__).parent
    for fresh in generated:
        committed = committed_dir / fresh.name
        assert committed.read_text() == fresh.read_text(), f"{fresh.name} is stale: run `make proto` and commit"


def test_proto_declares_the_contract():
    from shared.rpc import inference_pb2 as pb

    service = pb.DESCRIPTOR.services_by_name["InferenceService"]
    assert service.full_name == "tandem.v1.InferenceService"
    generate = service.methods_by_name["Generate"]
    assert generate.server_streaming and not generate.client_streaming
    assert {"GetModelInfo", "GetServerStatus"} <= set(service.methods_by_name)


def test_draft_verification_round_trips_and_is_off_when_unset():
    from shared.rpc import inference_pb2 as pb
    from shared.types import DraftVerification, EdgeContext, GenerationRequest, SamplingParams, VerifyMode
    from shared.wire import request_to_proto, verify_from_proto

    base = GenerationRequest("r", SamplingParams(max_tokens=4), question="Capital of Peru?")
    assert not request_to_proto(base).HasField("verify_draft"), "an old request carries no verification field"
    assert verify_from_proto(pb.GenerateRequest()) is None
    lenient = DraftVerification(VerifyMode.LENIENT, 0.25)
    msg = request_to_proto(
        GenerationRequest("r", base.sampling, question="q", edge_context=EdgeContext("Lima"), verify=lenient)
    )
    assert msg.verify_draft.mode == pb.DraftVerification.LENIENT
    parsed = verify_from_proto(pb.GenerateRequest.FromString(msg.SerializeToString()))
    assert parsed is not None and parsed.mode == VerifyMode.LENIENT and abs(parsed.alpha - 0.25) < 1e-6
    newer = pb.GenerateRequest(verify_draft=pb.DraftVerification(mode=7))  # a mode a later contract may add
    with pytest.raises(ValueError, match="not one this server knows"):
        verify_from_proto(newer)


def test_an_edge_context_that_shares_nothing_carries_no_field_an_older_cloud_would_refuse():
    from shared.rpc import inference_pb2 as pb
    from shared.types import EdgeContext, GenerationRequest, SamplingParams
    from shared.wire import request_to_proto

    plain = request_to_proto(
        GenerationRequest("r", SamplingParams(max_tokens=4), question="q", edge_context=EdgeContext("Lima"))
    )
    older_fields = {"draft_answer", "confidence", "estimator", "edge_model"}
    assert {field.name for field, _ in plain.edge_context.ListFields()} <= older_fields
    shared = EdgeContext("Lima", fleet_share="text", question_embedding=(0.5, 0.25), embedder="m", draft_cut_short=True)
    msg = pb.GenerateRequest.FromString(
        request_to_proto(
            GenerationRequest("r", SamplingParams(max_tokens=4), question="q", edge_context=shared)
        ).SerializeToString()
    )
    assert msg.edge_context.fleet_share == pb.FLEET_SHARE_TEXT and list(msg.edge_context.question_embedding) == [
        0.5,
        0.25,
    ]
    assert msg.edge_context.embedder == "m" and msg.edge_context.draft_cut_short
