"""A real cloud service (vLLM on CPU, the prepared Gemma-3-270M) shared by the cloud tests."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from transformers import AutoTokenizer

from cloud.launcher import CloudProcess
from cloud.model_prep import default_model_dir
from edge.cloud_client import CloudClient
from shared.config import default_data_dir
from shared.rpc import inference_pb2_grpc

API_KEY = "test-key-7f3a"
MAX_CONCURRENT = 4
MAX_OUTPUT_TOKENS = 256
SERVER_FLAGS = [
    "--backend",
    "vllm",
    "--api-keys",
    API_KEY,
    "--max-concurrent-requests",
    str(MAX_CONCURRENT),
    "--max-output-tokens",
    str(MAX_OUTPUT_TOKENS),
]
AUTH = (("authorization", f"Bearer {API_KEY}"),)


@pytest.fixture(scope="session")
def vllm_cloud(tmp_path_factory) -> CloudProcess:
    log = tmp_path_factory.mktemp("cloud") / "vllm-cloud.log"
    with CloudProcess(SERVER_FLAGS, log_path=log) as cloud:
        yield cloud


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
    return AutoTokenizer.from_pretrained(str(default_model_dir(default_data_dir())))


def model_dir() -> Path:
    return default_model_dir(default_data_dir())
