"""The default pair end to end, as a user runs it: the cloud serves Qwen2.5-Coder-1.5B on vLLM, the daemon runs
Qwen2.5-Coder-0.5B with its defaults, and the official `openai` client asks through the cascade.

Every other test checks mechanics on the fast cloud model (tests/settings.py); this module starts its own cloud
once, with the default model.
"""

from __future__ import annotations

import grpc
import openai
import pytest

from shared.launchers import CloudProcess, DaemonProcess
from shared.model_registry import DEFAULT_CLOUD_MODEL, DEFAULT_EDGE_MODEL, known_model
from shared.rpc import inference_pb2 as pb
from shared.rpc import inference_pb2_grpc
from tests.settings import API_KEY, AUTH, SERVER_FLAGS

pytestmark = [pytest.mark.vllm, pytest.mark.model]

# Questions the 1.5B answers right (benchmarks.models: 0.92 on capitals).
KNOWN_TO_THE_CLOUD = {"What is the capital of Peru?": "Lima", "What is the capital of Kenya?": "Nairobi"}


@pytest.fixture(scope="module")
def default_cloud(tmp_path_factory):
    log = tmp_path_factory.mktemp("default-cloud") / "cloud.log"
    with CloudProcess([*SERVER_FLAGS, "--known-model", DEFAULT_CLOUD_MODEL], log_path=log) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def default_daemon(default_cloud, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("default-daemon")
    flags = ["--cloud-address", default_cloud.address, "--cloud-api-key", API_KEY, "--model", DEFAULT_EDGE_MODEL]
    with DaemonProcess(flags, data_dir=str(data_dir), log_path=data_dir / "daemon.log") as daemon:
        yield daemon


def test_the_cloud_serves_the_default_model_in_its_recorded_style(default_cloud):
    with grpc.insecure_channel(default_cloud.address) as channel:
        info = inference_pb2_grpc.InferenceServiceStub(channel).GetModelInfo(
            pb.ModelInfoRequest(), metadata=AUTH, timeout=10
        )
    assert info.model_id == known_model(DEFAULT_CLOUD_MODEL).dirname and info.backend == "vllm"
    assert info.prompt_style == known_model(DEFAULT_CLOUD_MODEL).prompt_style


def test_the_edge_escalates_to_the_larger_model_and_its_answers_are_right(default_daemon):
    client = openai.OpenAI(base_url=f"{default_daemon.base_url}/v1", api_key="not-needed", max_retries=0, timeout=120)
    for question, answer in KNOWN_TO_THE_CLOUD.items():
        reply = client.chat.completions.create(
            model="tandem", messages=[{"role": "user", "content": question}], extra_body={"tandem": {"route": "cloud"}}
        )
        tandem = reply.model_extra["tandem"]
        assert tandem["served_by"] == "cloud" and tandem["cloud_model"] == known_model(DEFAULT_CLOUD_MODEL).dirname
        assert answer in (reply.choices[0].message.content or ""), reply


def test_the_daemon_runs_the_default_edge_model_and_answers_with_its_defaults(default_daemon):
    health = default_daemon.healthz()
    assert health["edge_model"]["loaded"] and "0.5b" in health["edge_model"]["name"].lower()
    client = openai.OpenAI(base_url=f"{default_daemon.base_url}/v1", api_key="not-needed", max_retries=0, timeout=120)
    reply = client.completions.create(model="tandem", prompt="What is the capital of France?", max_tokens=8)
    assert reply.model_extra["tandem"]["served_by"] in ("edge", "cloud")
    assert reply.choices[0].text.strip(), "an answer, from whichever side the default policy chose"
