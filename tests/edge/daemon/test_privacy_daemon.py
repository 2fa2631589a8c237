"""Privacy through the real daemon and the real cloud, with every byte the edge sends to the cloud captured.

Three apps: "mail" redacts (the default mode; names and places too, which are off by default), "notes" keeps
personal data local, "plain" has privacy off.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.fault_proxy import FaultProxy
from benchmarks.privacy import TOKENS, three_apps_config
from shared.launchers import DaemonProcess
from tests.settings import API_KEY
from tests.waiting import eventually_sync

# Values that must never reach the cloud or the disk (the "plain" app's own values are allowed to).
PRIVATE = {
    "email": "olga.petrova@example.net",
    "phone": "+1 646-555-0187",
    "card": "4539 1488 0343 6467",
    "iban": "GB82 WEST 1234 5698 7654 32",
    "ip": "172.16.254.77",
    "ssn": "536-22-8726",
    "secret": "ghp_R8nX2qL5vT9wK3mZ7pB4cY6dF1hJ0sA2eG8u",
    "person": "Olga Petrova",
    "location": "Springfield",
    "notes_phone": "+1 212-555-0144",
    "outbox_email": "ivan.sokolov@example.org",
    "draft_email": "lena.kowalski@example.com",
}
PLAIN_EMAIL = "plain.user@example.com"


@pytest.fixture(scope="module")
def proxy(vllm_cloud):
    host, port = vllm_cloud.address.rsplit(":", 1)
    with FaultProxy(host, int(port)) as p:
        yield p


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("privacy-daemon")


@pytest.fixture(scope="module")
def daemon(proxy, data_dir):
    (data_dir / "tandem.toml").write_text(three_apps_config())
    flags = [
        *("--config", str(data_dir / "tandem.toml"), "--cloud-address", proxy.address, "--cloud-api-key", API_KEY),
        *("--threads", "2", "--outbox-interval-s", "0.3", "--cloud-breaker-reset-s", "0.5", "--cloud-timeout-s", "20"),
    ]
    with DaemonProcess(flags, data_dir=str(data_dir), log_path=data_dir / "daemon.log") as d:
        yield d


def ask(daemon, app: str, content: str | list[dict], tandem: dict | None = None, stream: bool = False) -> dict:
    """One chat completion (a string: one user message); the JSON reply, or a streamed one put together."""
    messages = [{"role": "user", "content": content}] if isinstance(content, str) else content
    return _post(daemon, app, "chat/completions", {"messages": messages, "tandem": tandem or {}}, stream)


def complete(daemon, app: str, prompt: str, tandem: dict, stream: bool) -> dict:
    """A raw completion with the served tokens' log-probs (what the cloud generated, before restoring)."""
    return _post(
        daemon, app, "completions", {"prompt": prompt, "tandem": tandem, "logprobs": 0, "max_tokens": 24}, stream
    )


def _post(daemon, app: str, path: str, body: dict, stream: bool) -> dict:
    body = {"model": "tandem", "stream": stream, **body}
    headers = {"authorization": f"Bearer {TOKENS[app]}"}
    with httpx.Client(base_url=daemon.base_url, headers=headers, timeout=120) as client:
        if not stream:
            reply = client.post(f"/v1/{path}", json=body)
            assert reply.status_code == 200, reply.text
            data = reply.json()
            choice = data["choices"][0]
            tokens = (choice.get("logprobs") or {}).get("tokens") or []
            answer = choice["message"]["content"] if "message" in choice else choice["text"]
            return {"answer": answer, "tandem": data["tandem"], "raw": "".join(tokens)}
        pieces, report = [], None
        with client.stream("POST", f"/v1/{path}", json=body) as reply:
            assert reply.status_code == 200
            for line in reply.iter_lines():
                if line.startswith("data: {"):
                    chunk = json.loads(line[6:])
                    pieces += [c["delta"].get("content") or "" if "delta" in c else c["text"] for c in chunk["choices"]]
                    report = chunk.get("tandem", report)
        return {"answer": "".join(pieces), "tandem": report, "pieces": [p for p in pieces if p]}


def egress(daemon, app: str) -> list[dict]:
    headers = {"authorization": f"Bearer {TOKENS[app]}"}
    return httpx.get(f"{daemon.base_url}/v1/tandem/egress", params={"since": 0}, headers=headers).json()["data"]


# A pattern any model continues: the cloud's answer repeats the placeholders it was sent.
ECHO = "email: {email}, phone: {phone}\n" * 3 + "email:"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_redact_sends_placeholders_and_restores_the_answer(daemon, proxy, stream):
    prompt = ECHO.format(email=PRIVATE["email"], phone=PRIVATE["phone"])
    whole = complete(daemon, "mail", prompt, {"route": "cloud"}, stream=False)
    reply = complete(daemon, "mail", prompt, {"route": "cloud"}, stream=True) if stream else whole
    assert reply["tandem"]["served_by"] == "cloud"
    assert reply["tandem"]["privacy"] == {"left_device": True, "redacted": ["email", "phone"], "kept_local": False}
    assert PRIVATE["email"].encode() not in proxy.sent and b"646-555" not in proxy.sent
    assert b"<EMAIL_1>" in proxy.sent and b"<PHONE_1>" in proxy.sent
    # The cloud's own tokens (log-probs) carry placeholders; the app's answer has the values back, exactly.
    raw = whole["raw"]
    assert "<EMAIL_1>" in raw, f"the cloud did not repeat the placeholder: {raw!r}"
    assert reply["answer"] == raw.replace("<EMAIL_1>", PRIVATE["email"]).replace("<PHONE_1>", PRIVATE["phone"])
    if stream:  # the placeholders were split across the cloud's deltas and still came out whole
        assert len(reply["pieces"]) > 1 and "<EMAIL_1>" not in reply["answer"] and "<PHONE_1>" not in reply["answer"]


def test_every_type_leaves_as_a_placeholder(daemon, proxy):
    kinds = ["card", "iban", "ip", "ssn", "secret", "person", "location"]
    text = (
        f"{PRIVATE['person']} from {PRIVATE['location']} paid with {PRIVATE['card']} from {PRIVATE['iban']}; "
        f"SSN {PRIVATE['ssn']}, host {PRIVATE['ip']}, token {PRIVATE['secret']}. Summarize in one line."
    )
    reply = ask(daemon, "mail", text, {"route": "cloud"})
    assert reply["tandem"]["privacy"]["redacted"] == sorted(kinds)
    for kind in kinds:
        assert PRIVATE[kind].encode() not in proxy.sent, kind


def test_local_only_keeps_the_whole_conversation_on_the_device(daemon, proxy):
    first = f"My number is {PRIVATE['notes_phone']}, remind me to call the bank."
    reply = ask(daemon, "notes", first, {"route": "cloud"})
    t = reply["tandem"]
    assert t["served_by"] == "edge" and not t["degraded"]
    assert t["privacy"] == {"left_device": False, "redacted": [], "kept_local": True}
    assert "kept_local: personal data" in t["reasons"] and t["routed_before_generation"] is None
    # Later turns carry the history, so the conversation stays pinned to the device.
    history = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": reply["answer"] or "OK."},
        {"role": "user", "content": "What time should I call?"},
    ]
    later = ask(daemon, "notes", history, {"route": "cloud"}, stream=True)
    assert later["tandem"]["served_by"] == "edge" and later["tandem"]["privacy"]["kept_local"]
    assert b"212-555" not in proxy.sent
    # A clean question of the same app may leave; the log has it, and not the kept ones.
    clean = ask(daemon, "notes", "What is the capital of Peru?", {"route": "cloud"})
    assert clean["tandem"]["served_by"] == "cloud" and clean["tandem"]["privacy"]["left_device"]
    logged = {r["request_id"] for r in egress(daemon, "notes")}
    assert clean["tandem"]["request_id"] in logged
    assert not {reply["tandem"]["request_id"], later["tandem"]["request_id"]} & logged


def test_a_request_may_tighten_the_policy_never_loosen_it(daemon, proxy):
    off = ask(daemon, "plain", f"Repeat: {PLAIN_EMAIL}", {"route": "cloud"})
    assert off["tandem"]["privacy"] == {"left_device": True, "redacted": [], "kept_local": False}
    assert PLAIN_EMAIL.encode() in proxy.sent  # off is off
    tightened = ask(daemon, "plain", f"Repeat: {PRIVATE['email']}", {"route": "cloud", "privacy": "local_only"})
    assert tightened["tandem"]["privacy"]["kept_local"]
    loosened = ask(daemon, "notes", f"Repeat: {PRIVATE['email']}", {"route": "cloud", "privacy": "off"})
    assert loosened["tandem"]["privacy"]["kept_local"]
    bad = httpx.post(
        f"{daemon.base_url}/v1/chat/completions",
        headers={"authorization": f"Bearer {TOKENS['mail']}"},
        json={"model": "tandem", "messages": [{"role": "user", "content": "hi"}], "tandem": {"privacy": "some"}},
    )
    assert bad.status_code == 400 and "privacy" in bad.text


def _frames(sent: bytes, size: int) -> list[bytes]:
    """Every gRPC message of `size` bytes in the captured stream (a 5-byte prefix: not compressed, length)."""
    prefix, found, at = b"\x00" + size.to_bytes(4, "big"), [], 0
    while (at := sent.find(prefix, at)) != -1:
        found.append(sent[at + 5 : at + 5 + size])
        at += 1
    return found


def _samples(daemon) -> dict:
    text = httpx.get(f"{daemon.base_url}/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


def test_the_egress_log_matches_what_crossed_the_link(daemon, proxy, data_dir):
    kept_before = _samples(daemon)[("tandem_privacy_kept_local_total", ())]
    personal = ask(daemon, "mail", f"Shorten: ask {PRIVATE['email']} for the slides", {"route": "cloud"})
    clean = ask(daemon, "mail", "Shorten: ask for the slides", {"route": "cloud"})
    ask(daemon, "notes", f"Shorten: ask {PRIVATE['email']} for the slides", {"route": "cloud"})
    records = {r["request_id"]: r for r in egress(daemon, "mail")}
    assert all(set(r) == {"time", "request_id", "bytes", "redacted", "sha256"} for r in records.values())
    sent = bytes(proxy.sent)
    for reply, redacted in ((personal, ["email"]), (clean, [])):
        record = records[reply["tandem"]["request_id"]]
        assert record["redacted"] == redacted
        hashes = {hashlib.sha256(frame).hexdigest() for frame in _frames(sent, record["bytes"])}
        assert record["sha256"] in hashes, "the logged hash is that of a message on the wire"
    samples = _samples(daemon)
    assert samples[("tandem_egress_requests_total", (("namespace", "mail"),))] == len(records)
    emailed = sum("email" in r["redacted"] for r in records.values())
    assert samples[("tandem_egress_redacted_total", (("namespace", "mail"), ("type", "email")))] == emailed
    assert samples[("tandem_privacy_kept_local_total", ())] == kept_before + 1
    db = sqlite3.connect(data_dir / "edge" / "ns" / "mail" / "egress.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM egress")
    db.close()


def test_an_escalated_draft_leaves_redacted(daemon, proxy):
    """Escalated after the edge's draft (which repeats the address): the draft goes as placeholders too."""
    question = f"Repeat exactly: my address is {PRIVATE['draft_email']}"
    reply = ask(daemon, "mail", question, {"threshold": 1.0})
    assert reply["tandem"]["served_by"] == "cloud" and reply["tandem"]["confidence"] is not None
    assert reply["tandem"]["privacy"]["left_device"] and reply["tandem"]["privacy"]["redacted"] == ["email"]
    assert PRIVATE["draft_email"].split("@")[0].encode() not in proxy.sent


def test_outbox_keeps_redacted_questions_and_never_local_only_ones(daemon, proxy):
    pending = daemon.healthz()["outbox_pending"]
    proxy.partition()
    try:
        question = f"Repeat this line exactly: mail {PRIVATE['outbox_email']} today."
        degraded = ask(daemon, "mail", question, {"threshold": 1.0})
        assert degraded["tandem"]["degraded"] and degraded["tandem"]["served_by"] == "edge"
        kept = ask(daemon, "notes", f"Remind me: mail {PRIVATE['outbox_email']}", {"threshold": 1.0})
        assert kept["tandem"]["privacy"]["kept_local"] and not kept["tandem"]["degraded"]
        assert daemon.healthz()["outbox_pending"] == pending + 1
    finally:
        proxy.heal()
    headers = {"authorization": f"Bearer {TOKENS['mail']}"}

    def reconciled() -> list:
        items = httpx.get(f"{daemon.base_url}/v1/tandem/reconciled", params={"since": 0}, headers=headers).json()
        return [i for i in items["data"] if i["id"] == degraded["tandem"]["request_id"]]

    (item,) = eventually_sync(reconciled, 120, "the redacted question re-asked")
    assert "<EMAIL_1>" in item["query"]["question"] and PRIVATE["outbox_email"] not in str(item)
    assert PRIVATE["outbox_email"].encode() not in proxy.sent


def test_nothing_personal_is_written_on_the_device(daemon, data_dir):
    """The data dir (SQLite files and their journals, the daemon's log) holds no value the policies acted on."""
    values = [v.encode() for v in PRIVATE.values()] + [b"646-555-0187", b"Petrova"]
    files = [p for p in data_dir.rglob("*") if p.is_file() and p.suffix != ".toml" and p.stat().st_size < 2**26]
    assert any(p.name == "daemon.log" for p in files) and any(p.suffix == ".sqlite" for p in files)
    leaks = [(p.name, v) for p in files for v in values if v in p.read_bytes()]
    assert leaks == []
