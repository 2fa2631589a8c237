"""Committed stubs must equal what protoc generates from proto/ now."""

from __future__ import annotations

from pathlib import Path

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
