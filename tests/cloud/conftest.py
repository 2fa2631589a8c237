"""A real cloud service (vLLM on CPU, the prepared Gemma-3-270M) shared by the cloud tests."""

from __future__ import annotations

import grpc
import pytest
from transformers import AutoTokenizer

from cloud.model_prep import model_dir
from edge.uplink.client import CloudClient
from shared.config import default_data_dir
from shared.rpc import inference_pb2_grpc
from tests.cloud.experts_fixture import TrainedExperts, train_experts
from tests.settings import API_KEY, MECHANICS_CLOUD_MODEL


@pytest.fixture
async def client(vllm_cloud) -> CloudClient:
    async with CloudClient(vllm_cloud.address, api_key=API_KEY, timeout_s=60) as c:
        yield c


@pytest.fixture
async def stub(vllm_cloud) -> inference_pb2_grpc.InferenceServiceStub:
    """The raw stub, for requests the typed client would never build."""
    async with grpc.aio.insecure_channel(vllm_cloud.address) as channel:
        yield inference_pb2_grpc.InferenceServiceStub(channel)


@pytest.fixture(scope="session")
def hf_tokenizer():
    """The served model's own tokenizer: an independent count of prompt tokens."""
    return AutoTokenizer.from_pretrained(str(model_dir(default_data_dir(), MECHANICS_CLOUD_MODEL)))


@pytest.fixture(scope="session")
def trained_experts(hermetic_data_dir, tmp_path_factory) -> TrainedExperts:
    return train_experts(hermetic_data_dir, tmp_path_factory.mktemp("fact-tables"))
