"""Apps on one daemon, separated by bearer tokens: no app sees another's cached answers, feedback or outbox."""

from __future__ import annotations

import socket
import sqlite3

import httpx
import openai
import pytest

from shared.launchers import DaemonProcess
from tests.settings import API_KEY

pytestmark = pytest.mark.model

TOKENS = {"mail": "tok-mail-0123456789abcdef", "notes": "tok-notes-0123456789abcdef", "chat": "tok-chat-0123456789abcd"}
QUESTIONS = [
    ("What is the capital of Mongolia?", "Which city is Mongolia's capital?"),
    ("What is the capital of Ecuador?", "what's the capital city of Ecuador?"),
    ("What is the capital of Tanzania?", "Tanzania's capital is which city?"),
]


def _flags(cloud_address: str) -> list[str]:
    keys = ",".join(f"{token}={ns}" for ns, token in TOKENS.items())
    return ["--cloud-address", cloud_address, "--cloud-api-key", API_KEY, "--threads", "2", "--api-keys", keys]


@pytest.fixture(scope="module")
def apps_daemon(vllm_cloud, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("apps")
    flags = _flags(vllm_cloud.address)
    with DaemonProcess(flags, data_dir=str(data_dir), log_path=data_dir / "daemon.log") as d:
        d.data_dir = data_dir
        yield d


def _client(daemon: DaemonProcess, namespace: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{daemon.base_url}/v1", api_key=TOKENS[namespace], max_retries=0, timeout=60)


def _ask(client: openai.OpenAI, question: str, **tandem) -> tuple[str, dict, str]:
    reply = client.chat.completions.create(
        model="tandem", messages=[{"role": "user", "content": question}], extra_body={"tandem": tandem}
    )
    return reply.choices[0].message.content, reply.model_extra["tandem"], reply.id


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/models", "/v1/tandem/feedback", "/v1/tandem/reconciled"])
@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token-0123456789", "Basic dG9rOnRvaw==", "Token tok-mail-0123456789abcdef"]
)
def test_missing_or_wrong_token_is_401_openai_error(apps_daemon, path, header):
    headers = {"authorization": header} if header else {}
    method = httpx.get if path in ("/v1/models", "/v1/tandem/reconciled") else httpx.post
    kwargs = {} if method is httpx.get else {"json": {"model": "tandem", "messages": []}}
    reply = method(f"{apps_daemon.base_url}{path}", headers=headers, timeout=10, **kwargs)
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "invalid_api_key"


def test_health_stays_open_and_counts_namespaces(apps_daemon):
    assert set(apps_daemon.healthz()["namespaces"]) == set(TOKENS)


def _decisions(daemon: DaemonProcess) -> dict[str, int]:
    return {ns: v["cloud_share"]["decisions"] for ns, v in daemon.healthz()["namespaces"].items()}


def test_health_and_metrics_report_each_namespaces_own_decisions(apps_daemon):
    """One app's decisions move its own share and gauges, never another's (the first app's included)."""
    before = _decisions(apps_daemon)
    _ask(_client(apps_daemon, "notes"), "How many legs does a spider have?")
    after = _decisions(apps_daemon)
    assert after == {**before, "notes": before["notes"] + 1}
    metrics = httpx.get(f"{apps_daemon.base_url}/metrics", timeout=10).text
    assert 'tandem_escalation_rate{namespace="notes"}' in metrics
    assert 'tandem_effective_threshold{namespace="mail"}' in metrics
    if before["mail"] == 0:
        assert 'tandem_escalation_rate{namespace="mail"}' not in metrics, "mail has made no decision"


def test_no_app_is_served_another_apps_cached_answer(apps_daemon):
    mail, notes, chat = (_client(apps_daemon, ns) for ns in ("mail", "notes", "chat"))
    for question, paraphrase in QUESTIONS:
        _, first, _ = _ask(mail, question, route="cloud")
        assert first["served_by"] == "cloud"
        _, again, _ = _ask(mail, paraphrase, threshold=1.0)
        assert again["served_by"] == "cache", "the app's own paraphrase hits its own cache"
        # The first time another app asks it (either wording), only the cloud can answer.
        for other, text in ((notes, paraphrase), (chat, question)):
            _, meta, _ = _ask(other, text, threshold=1.0)
            assert meta["served_by"] == "cloud", f"{text!r} was answered from another app's cache"
    # Once an app has asked, its own cache serves it.
    _, meta, _ = _ask(notes, QUESTIONS[0][0], threshold=1.0)
    assert meta["served_by"] == "cache"


def test_feedback_only_on_the_callers_own_answers(apps_daemon):
    _, _, response_id = _ask(_client(apps_daemon, "mail"), "What is the capital of Chile?", route="edge")
    url = f"{apps_daemon.base_url}/v1/tandem/feedback"
    body = {"response_id": response_id, "correct": False}
    foreign = httpx.post(url, json=body, headers={"authorization": f"Bearer {TOKENS['notes']}"}, timeout=30)
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "unknown_response"
    own = httpx.post(url, json=body, headers={"authorization": f"Bearer {TOKENS['mail']}"}, timeout=30)
    assert own.status_code == 200 and own.json()["recorded"]


def test_outbox_and_reconciled_are_per_app(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"  # nothing listens: every escalation degrades
    with DaemonProcess(_flags(dead), data_dir=str(tmp_path), log_path=tmp_path / "d.log") as d:
        _, meta, _ = _ask(_client(d, "mail"), "What is the capital of Peru?", route="cloud")
        assert meta["degraded"] is True
        reconciled = httpx.get(
            f"{d.base_url}/v1/tandem/reconciled", headers={"authorization": f"Bearer {TOKENS['notes']}"}, timeout=10
        )
        assert reconciled.status_code == 200 and reconciled.json()["data"] == []
        assert d.healthz()["outbox_pending"] == 1
    pending = {}
    for ns in TOKENS:
        with sqlite3.connect(tmp_path / "edge" / "ns" / ns / "outbox.sqlite") as db:
            pending[ns] = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert pending == {"mail": 1, "notes": 0, "chat": 0}


def test_public_address_without_tokens_is_refused(tmp_path):
    daemon = DaemonProcess(["--cloud-address", "127.0.0.1:1"], data_dir=str(tmp_path), host="0.0.0.0")
    with pytest.raises(RuntimeError, match="without app tokens"):
        daemon.start()
