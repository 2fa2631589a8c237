"""Quota and authentication logic without a server (the real service is in test_security.py)."""

from __future__ import annotations

import grpc
import pytest

from cloud.keys import KeyStore
from cloud.tenancy import ANONYMOUS, STATIC_TENANT, Rejected, TenantGate, TokenBucket
from shared.cli_flags import overrides_from_flags
from shared.config import CloudConfig
from tests.clock import ManualClock


def test_token_bucket_allows_the_burst_then_the_rate():
    clock = ManualClock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5), "the next token comes after 1/rate seconds"
    clock.t = 0.5
    assert bucket.take() == 0.0
    clock.t = 100.0
    assert [bucket.take() for _ in range(4)][:3] == [0.0, 0.0, 0.0], "refills up to the burst, no further"


def _gate(tmp_path, **cloud) -> TenantGate:
    config = CloudConfig(
        **overrides_from_flags(CloudConfig, "cloud", **cloud).get("cloud", {})
    )  # settings by flag name
    return TenantGate(config, KeyStore(tmp_path / "keys.json"), clock=ManualClock())


def _bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


def test_no_credentials_configured_means_anonymous_even_with_a_stray_key(tmp_path):
    gate = _gate(tmp_path)
    assert not gate.required
    assert gate.authenticate(_bearer("whatever"), {}) == ANONYMOUS


def test_static_store_and_certificate_tenants(tmp_path):
    gate = _gate(tmp_path, api_keys=["dev-key"], tls_cert="c", tls_key="k", tls_client_ca="ca")
    _, key = KeyStore(tmp_path / "keys.json").add("fleet")
    assert gate.authenticate(_bearer("dev-key"), {}) == STATIC_TENANT
    assert gate.authenticate(_bearer(key), {}) == "fleet"
    assert gate.authenticate((), {"x509_common_name": [b"device-9"]}) == "device-9"
    for metadata in (_bearer("nope"), (("authorization", "Basic abc"),), ()):
        with pytest.raises(Rejected) as refused:
            gate.authenticate(metadata, {})
        assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_stream_cap_is_per_tenant(tmp_path):
    gate = _gate(tmp_path, tenant_max_streams=1)
    gate.admit("a", stream=True).active_streams += 1
    with pytest.raises(Rejected) as refused:
        gate.admit("a", stream=True)
    assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED and refused.value.retry_after_s
    gate.admit("b", stream=True)  # another tenant is unaffected
    assert gate.usage["a"].rejected == 1 and gate.usage["b"].rejected == 0
