"""TLS, mTLS, hashed per-tenant keys and quotas on a real service (llama.cpp backend: it starts in seconds).

One mTLS service for the module; certificates rotate and keys are revoked under it, without a restart.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from cloud.certs import issue, make_ca, write_dev_certs, write_pem
from edge.uplink.breaker import CircuitBreaker
from edge.uplink.client import CloudClient
from edge.uplink.uplink import CloudUplink
from shared.client_tls import ClientTls
from shared.launchers import CloudProcess
from shared.rpc import inference_pb2 as pb
from shared.types import GenerationRequest, SamplingParams
from tests.waiting import eventually

pytestmark = pytest.mark.model

RATE = 4.0  # tenant requests/s: low enough to trip in a test, high enough for the other tests


def _request(i: int = 0, max_tokens: int = 4) -> GenerationRequest:
    return GenerationRequest(f"sec-{i}", SamplingParams(max_tokens=max_tokens), prompt="Q: capital of France?\nA:")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cloud.cli", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pki")
    write_dev_certs(out, client_name="edge-device-7")
    other = out / "other"
    write_dev_certs(other)  # a second CA nobody trusts
    return out


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("keys") / "keys.json"


@pytest.fixture(scope="module")
def mtls_cloud(pki, keys_file, tmp_path_factory):
    served = tmp_path_factory.mktemp("served")  # the files the server reads; tests rotate them
    for name in ("server.pem", "server-key.pem"):
        shutil.copy(pki / name, served / name)
    flags = [
        "--backend", "llamacpp", "--threads", "2",
        "--tls-cert", str(served / "server.pem"), "--tls-key", str(served / "server-key.pem"),
        "--tls-client-ca", str(pki / "ca.pem"), "--keys-file", str(keys_file),
        "--tenant-requests-per-s", str(RATE), "--tenant-burst", "4", "--tenant-max-streams", "1",
    ]  # fmt: skip
    tls = ClientTls(pki / "ca.pem", pki / "client.pem", pki / "client-key.pem")
    log = tmp_path_factory.mktemp("logs") / "cloud.log"
    with CloudProcess(flags, tls=tls, log_path=log) as cloud:
        cloud.served_dir = served
        cloud.log = log
        yield cloud


def _tls(pki: Path, **change) -> ClientTls:
    files = {"ca": pki / "ca.pem", "cert": pki / "client.pem", "key": pki / "client-key.pem", **change}
    return ClientTls(**files)


async def _ask(address: str, tls: ClientTls | None, api_key: str = ""):
    async with CloudClient(address, api_key, timeout_s=20, tls=tls) as client:
        return await CloudUplink(client, CircuitBreaker(5)).ask(_request())


async def _status(cloud: CloudProcess, api_key: str = "") -> dict[str, pb.TenantStatus]:
    async with CloudClient(cloud.address, api_key, tls=cloud.tls) as client:
        return {t.tenant: t for t in (await client.server_status()).tenants}


async def test_mtls_client_certificate_names_the_tenant(mtls_cloud, pki):
    done = await _ask(mtls_cloud.address, _tls(pki))
    assert done.result is not None and done.result.completion_tokens > 0
    assert (await _status(mtls_cloud))["edge-device-7"].requests >= 1


@pytest.mark.parametrize(
    "change",
    [
        {"ca": "other/ca.pem"},  # the edge does not trust the server's CA
        {"cert": None, "key": None},  # no client certificate
        {"cert": "other/client.pem", "key": "other/client-key.pem"},  # a client certificate from another CA
    ],
    ids=["wrong-ca", "no-client-cert", "untrusted-client-cert"],
)
async def test_handshake_failures_degrade_fast_with_a_reason(mtls_cloud, pki, change):
    tls = _tls(pki, **{k: (pki / v if v else None) for k, v in change.items()})
    started = time.perf_counter()
    done = await _ask(mtls_cloud.address, tls)
    assert done.result is None and done.failure == "cloud_tls_failed", done.detail
    assert time.perf_counter() - started < 10, "a failed handshake must not hang until the deadline"


async def test_plaintext_client_cannot_reach_a_tls_service(mtls_cloud):
    done = await _ask(mtls_cloud.address, None)
    assert done.result is None and done.failure == "cloud_unreachable"


async def test_certificates_reload_without_restart_expired_one_is_refused(mtls_cloud, pki):
    served: Path = mtls_cloud.served_dir
    original = {n: (served / n).read_bytes() for n in ("server.pem", "server-key.pem")}
    # Same CA, but the certificate ended yesterday.
    ca = make_ca()
    write_pem(pki / "rotation-ca.pem", ca.cert_pem())
    expired = issue(
        ca, "127.0.0.1", ("127.0.0.1", "localhost"), days=1, not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    )
    fresh = issue(ca, "127.0.0.1", ("127.0.0.1", "localhost"))
    trusting_rotation = _tls(pki, ca=pki / "rotation-ca.pem")
    try:
        write_pem(served / "server-key.pem", expired.key_pem(), secret=True)
        write_pem(served / "server.pem", expired.cert_pem())
        done = await _ask(mtls_cloud.address, trusting_rotation)
        assert done.failure == "cloud_tls_failed", "an expired server certificate is refused"
        write_pem(served / "server-key.pem", fresh.key_pem(), secret=True)
        write_pem(served / "server.pem", fresh.cert_pem())
        done = await _ask(mtls_cloud.address, trusting_rotation)
        assert done.result is not None, f"the rotated certificate is served without a restart: {done.detail}"
    finally:
        for name, data in original.items():
            write_pem(served / name, data, secret=name.endswith("key.pem"))
    assert (await _ask(mtls_cloud.address, _tls(pki))).result is not None


async def test_keys_are_hashed_per_tenant_and_revocation_needs_no_restart(mtls_cloud, pki, keys_file):
    added = _cli("keys", "--keys-file", str(keys_file), "add", "--tenant", "fleet-a")
    assert added.returncode == 0, added.stderr
    record = json.loads(added.stdout)
    key = record["key"]
    at_rest = keys_file.read_text()
    assert key not in at_rest and key.split("_")[-1] not in at_rest, "keys are never stored in plaintext"
    assert oct(keys_file.stat().st_mode & 0o777) == "0o600"
    listed = _cli("keys", "--keys-file", str(keys_file), "list")
    assert "fleet-a" in listed.stdout and key not in listed.stdout

    done = await _ask(mtls_cloud.address, _tls(pki), api_key=key)
    assert done.result is not None
    assert (await _status(mtls_cloud, key))["fleet-a"].requests >= 1, "the key, not the certificate, names the tenant"
    wrong = await _ask(mtls_cloud.address, _tls(pki), api_key=key[:-2] + "xx")
    assert wrong.failure == "cloud_auth_failed"

    revoked = _cli("keys", "--keys-file", str(keys_file), "revoke", record["key_id"])
    assert revoked.returncode == 0, revoked.stderr
    # The server re-reads the key file at most once a second: the revocation takes hold within a bound.
    await eventually(lambda: _refused(mtls_cloud, pki, key), KEY_RELOAD_S, "the revoked key refused")

    log = mtls_cloud.log.read_text()
    assert key not in log and '"tenant": "fleet-a"' in log, "logs carry the tenant, never the key"


KEY_RELOAD_S = 5.0


async def _refused(cloud, pki: Path, key: str) -> bool:
    return (await _ask(cloud.address, _tls(pki), api_key=key)).failure == "cloud_auth_failed"


async def _accepted(cloud, pki: Path, key: str) -> bool:
    async with CloudClient(cloud.address, key, tls=cloud.tls) as client:
        return await _info_ok(client)


async def _info_ok(client: CloudClient) -> bool:
    try:
        await client.model_info()
    except grpc.aio.AioRpcError:
        return False
    return True


async def _generates(client: CloudClient) -> bool:
    try:
        return (await client.generate(_request(3))).completion_tokens > 0
    except grpc.aio.AioRpcError:
        return False


async def test_tenant_rate_over_quota_gets_resource_exhausted_with_a_retry_hint(mtls_cloud, pki, keys_file):
    key = json.loads(_cli("keys", "--keys-file", str(keys_file), "add", "--tenant", "chatty").stdout)["key"]
    await eventually(lambda: _accepted(mtls_cloud, pki, key), KEY_RELOAD_S, "the new key accepted")
    async with CloudClient(mtls_cloud.address, key, tls=mtls_cloud.tls) as client:
        codes, trailers = [], []
        for _ in range(8):
            try:
                await client.model_info()
                codes.append(grpc.StatusCode.OK)
            except grpc.aio.AioRpcError as exc:
                codes.append(exc.code())
                trailers.append(dict(exc.trailing_metadata() or ()))
        # The burst is 4; the call that found the new key took one (refused calls before it took none).
        assert codes[:3] == [grpc.StatusCode.OK] * 3, "the rest of the burst passes"
        assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes[3:]
        assert all(int(t["retry-after-ms"]) > 0 for t in trailers)
        await eventually(lambda: _info_ok(client), 5.0, "the bucket refilled")
    other = await _status(mtls_cloud)  # another tenant is not limited by this one
    assert other["chatty"].rejected >= 1


async def test_tenant_stream_cap(mtls_cloud, pki, keys_file):
    key = json.loads(_cli("keys", "--keys-file", str(keys_file), "add", "--tenant", "streamer").stdout)["key"]
    await eventually(lambda: _accepted(mtls_cloud, pki, key), KEY_RELOAD_S, "the new key accepted")
    async with CloudClient(mtls_cloud.address, key, tls=mtls_cloud.tls) as client:
        long_call = client.stream(_request(1, max_tokens=48))
        first = await anext(long_call.__aiter__())
        assert first.HasField("delta")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await client.generate(_request(2))
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        long_call.cancel()
        await eventually(lambda: _generates(client), 5.0, "the stream slot freed by the cancel")


def test_plaintext_on_a_public_address_is_refused(tmp_path):
    refused = _cli("serve", "--backend", "llamacpp", "--host", "0.0.0.0", "--port", "0")
    assert refused.returncode == 1 and "refusing to serve plaintext" in refused.stderr
    with CloudProcess(["--backend", "llamacpp", "--insecure"], host="0.0.0.0", log_path=tmp_path / "c.log") as cloud:
        assert cloud.health() == 1
    assert "PLAINTEXT" in (tmp_path / "c.log").read_text()


def test_certs_command_writes_the_five_files(tmp_path):
    made = _cli("certs", "--out", str(tmp_path / "c"), "--hosts", "127.0.0.1,cloud.internal")
    assert made.returncode == 0, made.stderr
    names = sorted(p.name for p in (tmp_path / "c").iterdir())
    assert names == ["ca.pem", "client-key.pem", "client.pem", "server-key.pem", "server.pem"]
    assert oct((tmp_path / "c" / "server-key.pem").stat().st_mode & 0o777) == "0o600"
