"""Personal data on the edge, measured: detection per type, what crossed the link, answers with and without
redaction, and the latency the check adds.

    python -m benchmarks.privacy [--requests 500] [--quality 24] [--cloud-address HOST:PORT --cloud-api-key K]

1. Detection: the product's privacy gate (every type acted on) over generated requests carrying each type and
   as many clean questions; a planted value counts as caught when it is gone from what would be sent.
2. The link: a daemon with a redacting app and a local-only app, behind a proxy that keeps every byte the edge
   sends to the cloud; each generated request goes to one of them (route cloud), then the bytes are searched.
3. Quality: rewrite, summarize and reply tasks through the cloud with the policy off and redacting (whole and
   streamed): the planted values in the answers, placeholders restored, and how alike the answers are.
4. Added latency: the gate's check of a 500-character request, with and without names.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

from benchmarks.fault_proxy import FaultProxy
from benchmarks.harness import RESULTS_DIR, add_cloud_args, daemon_cloud_flags, quiet_logs, write_result
from benchmarks.privacy_data import STRUCTURED, TYPES, Sample, clean_samples, long_prompt, personal_samples
from benchmarks.stats import percentile
from edge.core.query import Query
from edge.core.redaction import KINDS, PLACEHOLDER
from edge.privacy.detector import PersonalDataDetector
from edge.privacy.gate import PrivacyGate
from shared.config.privacy import PrivacyConfig
from shared.launchers import DaemonProcess
from shared.types import ChatMessage

TOKENS = {"mail": "mail-token-0123456789", "notes": "notes-token-0123456789", "plain": "plain-token-0123456789"}


def three_apps_config() -> str:
    """The daemon's TOML for three apps (the tests of privacy use it too): mail redacts (names and places too),
    notes keeps personal data on the device, plain has privacy off."""
    keys = ", ".join(f'"{token}" = "{app}"' for app, token in TOKENS.items())
    return (
        f'[daemon]\napi_keys = {{ {keys} }}\n[daemon.privacy]\nnames = "redact"\n'
        '[daemon.privacy.namespaces.notes]\nmode = "local_only"\n[daemon.privacy.namespaces.plain]\nmode = "off"\n'
    )


TASKS = [
    "Rewrite politely: tell {person} to send the report to {email} by Friday.",
    "Summarize in one sentence: {person} called from {phone} about the invoice and wants an answer today.",
    "Draft a two-line reply to {person} ({email}) saying I can't make the meeting on Friday.",
    "Write a short reminder to call {person} at {phone} about the contract.",
]


def _alnum(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def leaked(kind: str, value: str, text: str) -> bool:
    """Whether `text` still holds the value (digits in any format; any part of a name)."""
    if kind == "phone":
        return _alnum(value)[-7:] in _alnum(text)
    if kind in ("card", "iban", "ssn"):
        return _alnum(value) in _alnum(text)
    if kind == "person":
        return any(
            len(p) > 2
            and p[0].isupper()
            and p.strip(".") not in ("Dr", "Mr", "Mrs", "Ms", "Frau", "Herr")
            and re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text)
            for p in value.split()
        )
    return value in text


def _query(sample: Sample) -> Query:
    return Query(messages=tuple(ChatMessage(role, content) for role, content in sample.messages))


async def detection(personal: list[Sample], clean: list[Sample]) -> dict:
    gate = PrivacyGate(PrivacyConfig(names="redact"), "", PersonalDataDetector(frozenset(KINDS)))
    found: dict[str, list[tuple[Sample, tuple[str, ...]]]] = {}
    for sample in personal + clean:
        checked = await gate.scan(_query(sample))
        sent = checked.redacted().text
        caught = tuple(checked.privacy.kinds) + (
            ("!leak",) if sample.kind and leaked(sample.kind, sample.value, sent) else ()
        )
        found.setdefault(sample.kind, []).append((sample, caught))
    rows = {}
    for kind in TYPES:
        planted = found.get(kind, [])
        recall = sum("!leak" not in c for _, c in planted) / max(1, len(planted))
        true = sum(kind in c and "!leak" not in c for _, c in planted)
        false = sum(kind in c for other, rows_ in found.items() if other != kind for _, c in rows_)
        rows[kind] = {
            "planted": len(planted),
            "recall": round(recall, 4),
            "precision": round(true / max(1, true + false), 4),
        }
    clean_rows = found.get("", [])
    labeled = [c for s, c in clean_rows if s.source == "labeled"]
    return {
        "types": rows,
        "clean_questions": len(clean_rows),
        "clean_false_positive_rate": round(sum(bool(c) for _, c in clean_rows) / max(1, len(clean_rows)), 4),
        "clean_flagged": sorted({s.messages[0][1] for s, c in clean_rows if c})[:20],
        "labeled_sets_false_positive_rate": round(sum(bool(c) for c in labeled) / max(1, len(labeled)), 4),
    }


def _post(client: httpx.Client, app: str, messages, tandem: dict, stream: bool = False, max_tokens: int = 8) -> dict:
    body = {
        "model": "tandem",
        "messages": [{"role": r, "content": c} for r, c in messages],
        "tandem": tandem,
        "max_tokens": max_tokens,
        "logprobs": True,
        "stream": stream,
    }
    headers = {"authorization": f"Bearer {TOKENS[app]}"}
    if not stream:
        reply = client.post("/v1/chat/completions", json=body, headers=headers)
        reply.raise_for_status()
        data = reply.json()
        tokens = [t["token"] for t in (data["choices"][0]["logprobs"] or {}).get("content", [])]
        return {"answer": data["choices"][0]["message"]["content"], "tandem": data["tandem"], "raw": "".join(tokens)}
    answer = ""
    with client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as reply:
        for line in reply.iter_lines():
            if line.startswith("data: {"):
                chunk = httpx.Response(200, content=line[6:]).json()
                answer += "".join(c["delta"].get("content") or "" for c in chunk["choices"])
    return {"answer": answer}


def through_the_link(personal: list[Sample], tasks: list[dict], cloud_flags: list[str], threads: int) -> dict:
    address = cloud_flags[cloud_flags.index("--cloud-address") + 1]
    host, port = address.rsplit(":", 1)
    with (
        FaultProxy(host, int(port)) as proxy,
        _daemon(proxy.address, cloud_flags, threads) as daemon,
        httpx.Client(base_url=daemon.base_url, timeout=300) as client,
    ):
        kept, sent_by_app = 0, {"mail": 0, "notes": 0}
        for i, sample in enumerate(personal):
            app = "mail" if i % 2 == 0 else "notes"
            reply = _post(client, app, sample.messages, {"route": "cloud"})
            kept += reply["tandem"]["privacy"]["kept_local"]
            sent_by_app[app] += 1
        wire = bytes(proxy.sent).decode("latin-1")
        leaks = {kind: sum(leaked(s.kind, s.value, wire) for s in personal if s.kind == kind) for kind in TYPES}
        link = {
            "requests": len(personal),
            "by_app": sent_by_app,
            "kept_local": kept,
            "bytes_to_cloud": len(proxy.sent),
            "values_found_on_the_wire": leaks,
            "structured_values_found": sum(leaks[k] for k in STRUCTURED),
        }
        return {"link": link, "quality": _quality(client, tasks)}


def _quality(client: httpx.Client, tasks: list[dict]) -> dict:
    rows = []
    for task in tasks:
        messages = (("user", task["text"]),)
        off = _post(client, "plain", messages, {"route": "cloud"}, max_tokens=64)
        red = _post(client, "mail", messages, {"route": "cloud"}, max_tokens=64)
        streamed = _post(client, "mail", messages, {"route": "cloud"}, stream=True, max_tokens=64)
        values = task["values"]
        rows.append(
            {
                "off_values_kept": sum(v in off["answer"] for v in values) / len(values),
                "redact_values_kept": sum(v in red["answer"] for v in values) / len(values),
                "placeholders_from_cloud": len(PLACEHOLDER.findall(red["raw"])),
                "placeholders_left": len(PLACEHOLDER.findall(red["answer"])),
                "streamed_identical": streamed["answer"] == red["answer"],
                "answers": (off["answer"], red["answer"]),
            }
        )
    with_placeholders = [r for r in rows if r["placeholders_from_cloud"]]
    return {
        "tasks": len(rows),
        "values_kept_off": round(float(np.mean([r["off_values_kept"] for r in rows])), 3),
        "values_kept_redact": round(float(np.mean([r["redact_values_kept"] for r in rows])), 3),
        "answers_with_placeholders": len(with_placeholders),
        "restored_exactly": sum(r["placeholders_left"] == 0 and r["streamed_identical"] for r in with_placeholders),
        "streamed_identical": sum(r["streamed_identical"] for r in rows),
        "examples": [r["answers"] for r in rows[:3]],
    }


@contextlib.contextmanager
def _daemon(cloud: str, cloud_flags: list[str], threads: int) -> Iterator[DaemonProcess]:
    """Three apps (mail redacts, notes keeps personal data local, plain is off) in front of `cloud`."""
    with tempfile.TemporaryDirectory(prefix="tandem-privacy-") as tmp:
        data_dir = Path(tmp)
        (data_dir / "tandem.toml").write_text(three_apps_config())
        flags = [*cloud_flags, "--config", str(data_dir / "tandem.toml"), "--threads", str(threads)]
        flags[flags.index("--cloud-address") + 1] = cloud
        with DaemonProcess(flags, data_dir=str(data_dir)) as daemon:
            yield daemon


async def added_latency(personal: list[Sample], n: int, chars: int = 500) -> dict:
    rng = random.Random(1)
    prompts = [f"{i} " + long_prompt(personal, chars, rng) for i in range(n)]
    out = {}
    for label, config in (
        ("all types", PrivacyConfig(names="redact")),
        ("without names", PrivacyConfig()),
    ):
        gate = PrivacyGate(config, "", PersonalDataDetector(frozenset(KINDS)))
        await gate.scan(Query("warm up: Maria Garcia, jane@example.com"))
        times = []
        for prompt in prompts:
            started = time.perf_counter()
            await gate.scan(Query(prompt=prompt))
            times.append((time.perf_counter() - started) * 1000)
        out[label] = {"p50_ms": round(percentile(times, 50), 2), "p99_ms": round(percentile(times, 99), 2)}
    return {"prompt_chars": chars, "requests": n, **out}


def quality_tasks(n: int, personal: list[Sample]) -> list[dict]:
    by_kind = {k: [s.value for s in personal if s.kind == k] for k in ("person", "email", "phone")}
    rng = random.Random(2)
    tasks = []
    for i in range(n):
        values = {k: rng.choice(v) for k, v in by_kind.items()}
        template = TASKS[i % len(TASKS)]
        tasks.append(
            {"text": template.format(**values), "values": [values[k] for k in values if f"{{{k}}}" in template]}
        )
    return tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500, help="generated requests with personal data")
    parser.add_argument("--quality", type=int, default=24, help="tasks answered with the policy off and redacting")
    parser.add_argument("--latency", type=int, default=300, help="500-character requests timed")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "privacy.json")
    add_cloud_args(parser)
    args = parser.parse_args()
    quiet_logs()
    personal, clean = personal_samples(args.requests), clean_samples(args.requests)
    result = {"detection": asyncio.run(detection(personal, clean))}
    print("detection", result["detection"], flush=True)
    result["latency"] = asyncio.run(added_latency(personal, args.latency))
    print("added latency", result["latency"], flush=True)
    with daemon_cloud_flags(args) as cloud_flags:
        result.update(through_the_link(personal, quality_tasks(args.quality, personal), cloud_flags, args.threads))
    print("link", result["link"], "\nquality", {k: v for k, v in result["quality"].items() if k != "examples"})
    write_result(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
