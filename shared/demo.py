"""`make demo`: the whole system on the default models, driven by the official `openai` client.

Starts the cloud service (vLLM, Qwen2.5-Coder-1.5B-Instruct) and the edge daemon (llama.cpp,
Qwen2.5-Coder-0.5B-Instruct) on 127.0.0.1, asks a handful of real questions through the daemon's
OpenAI-compatible API, repeats one that escalated to show the cache, then stops both services. It runs them as
they should be run: the link is mTLS (development certificates made on the spot), the device holds a per-tenant
cloud key, and the app a daemon token. Everything goes through the two CLIs (`tandem-cloud certs`,
`tandem-cloud keys add`, both `serve`s), as an operator would run them.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import openai

from shared.client_tls import ClientTls
from shared.launchers import CloudProcess, DaemonProcess

QUESTIONS = (
    "What is the capital of France?",
    "What is the capital of Germany?",
    "What is the capital of Burkina Faso?",
    "What is the capital of Peru?",
    "What is the capital of Kenya?",
)


def describe(t: dict) -> str:
    conf = "-" if t["confidence"] is None else f"{t['confidence']:.2f}"
    ms = t["timings"]
    line = (
        f"served_by={t['served_by']} confidence={conf} edge={ms['edge_ms']:.0f}ms cloud={ms['cloud_ms']:.0f}ms "
        f"total={ms['total_ms']:.0f}ms cost={t['cost']:.6f}"
    )
    line += f" cloud_model={t['cloud_model']}" if t["served_by"] == "cloud" else ""
    return line + (f" DEGRADED({t['degraded_reason']})" if t["degraded"] else "")


def ask(client: openai.OpenAI, question: str) -> dict:
    started = time.perf_counter()
    reply = client.chat.completions.create(model="tandem", messages=[{"role": "user", "content": question}])
    wall_ms = (time.perf_counter() - started) * 1000
    tandem = (reply.model_extra or {})["tandem"]
    print(f"Q: {question}\nA: {reply.choices[0].message.content}\n   [{describe(tandem)} http={wall_ms:.0f}ms]\n")
    return tandem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="vllm", choices=["vllm", "llamacpp"], help="cloud engine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tandem-demo-") as tmp:
        run(args.backend, Path(tmp))
    print("edge daemon and cloud service stopped")


def tandem_cloud(*args: str) -> dict:
    """One `tandem-cloud` command; its JSON output."""
    done = subprocess.run([sys.executable, "-m", "cloud.cli", *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def run(backend: str, tmp: Path) -> None:
    pki = {name: Path(path) for name, path in tandem_cloud("certs", "--out", str(tmp / "pki")).items()}
    keys_file = tmp / "keys.json"
    device_key = tandem_cloud("keys", "--keys-file", str(keys_file), "add", "--tenant", "demo-device")["key"]
    app_token = f"demo-app-{secrets.token_hex(16)}"
    cloud_flags = ["--backend", backend, "--log-level", "WARNING", "--keys-file", str(keys_file)]
    cloud_flags += ["--tls-cert", str(pki["server.pem"]), "--tls-key", str(pki["server-key.pem"])]
    cloud_flags += ["--tls-client-ca", str(pki["ca.pem"])]
    tls = ClientTls(pki["ca.pem"], pki["client.pem"], pki["client-key.pem"])
    print(f"starting the cloud service ({backend}, mTLS); vLLM on CPU takes a minute or two ...", flush=True)
    started = time.perf_counter()
    with CloudProcess(cloud_flags, tls=tls) as cloud:
        print(f"cloud service ready at {cloud.address} in {time.perf_counter() - started:.0f} s", flush=True)
        flags = ["--cloud-address", cloud.address, "--cloud-api-key", device_key, "--log-level", "WARNING"]
        flags += ["--cloud-tls-ca", str(pki["ca.pem"]), "--cloud-tls-cert", str(pki["client.pem"])]
        flags += ["--cloud-tls-key", str(pki["client-key.pem"]), "--api-keys", f"{app_token}=demo-app"]
        with DaemonProcess(flags, data_dir=str(tmp / "edge")) as daemon:
            print(f"edge daemon ready at {daemon.base_url} (apps need a token)\n", flush=True)
            client = openai.OpenAI(base_url=f"{daemon.base_url}/v1", api_key=app_token, max_retries=0)
            escalated = [q for q in QUESTIONS if ask(client, q)["served_by"] == "cloud"]
            if escalated:
                print("Asking an escalated question again:")
                ask(client, escalated[0])
            personal(client, daemon.base_url, app_token)


PERSONAL = "Rewrite politely: tell Olga Petrova to send the slides to olga.petrova@example.net by Friday."


def personal(client: openai.OpenAI, base_url: str, token: str) -> None:
    """A request with personal data, sent to the cloud: it leaves redacted, and the answer has the values back."""
    print("A request with personal data (privacy mode redact, the default; names are left as they are) to the cloud:")
    reply = client.chat.completions.create(
        model="tandem", messages=[{"role": "user", "content": PERSONAL}], extra_body={"tandem": {"route": "cloud"}}
    )
    privacy = (reply.model_extra or {})["tandem"]["privacy"]
    print(f"Q: {PERSONAL}\nA: {reply.choices[0].message.content}\n   [privacy={privacy}]")
    rows = json.loads(
        urllib.request.urlopen(
            urllib.request.Request(f"{base_url}/v1/tandem/egress", headers={"authorization": f"Bearer {token}"})
        ).read()
    )["data"]
    print(f"   egress log: {rows[-1]}\n")


if __name__ == "__main__":
    main()
