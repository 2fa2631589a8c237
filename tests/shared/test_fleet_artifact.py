"""A signed fleet router is accepted as built and refused, with the reason, once anything in it changes."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.fleet_artifact import (
    ArtifactRefused,
    FleetManifest,
    FleetRows,
    pack_rows,
    sha256,
    unpack_rows,
    verify_artifact,
)

KEY = Ed25519PrivateKey.generate()
ROWS = FleetRows(
    np.eye(3, 4, dtype=np.float32),
    np.array([1.0, 0.0, np.nan]),
    np.array([np.nan, 1.0, 0.7]),
    np.array(["a", "b", "c"]),
)


def signed(
    rows: FleetRows = ROWS, embedder: str = "minilm", key: Ed25519PrivateKey = KEY
) -> tuple[bytes, bytes, bytes]:
    payload = pack_rows(rows)
    manifest = FleetManifest(7, "acme", len(rows), {"kind:a": 1}, embedder, 4, ["edge"], 0.0, sha256(payload))
    raw = manifest.to_bytes()
    return raw, key.sign(raw), payload


def test_a_signed_artifact_is_accepted_with_its_rows():
    manifest, rows = verify_artifact(*signed(), KEY.public_key(), "minilm", 4)
    assert manifest.version == 7 and manifest.tenant == "acme"
    np.testing.assert_array_equal(rows.embeddings, ROWS.embeddings)
    np.testing.assert_array_equal(rows.cloud_correct, ROWS.cloud_correct)
    assert list(rows.kinds) == ["a", "b", "c"]


def test_rows_survive_packing():
    again = unpack_rows(pack_rows(ROWS))
    np.testing.assert_array_equal(again.edge_correct, ROWS.edge_correct)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda m, s, p: (m.replace(b'"version": 7', b'"version": 8'), s, p), "bad signature"),
        (
            lambda m, s, p: (
                m,
                s,
                pack_rows(FleetRows(ROWS.embeddings, ROWS.cloud_correct, ROWS.edge_correct, ROWS.kinds)),
            ),
            "SHA-256",
        ),
        (lambda m, s, p: signed(key=Ed25519PrivateKey.generate()), "bad signature"),
        (lambda m, s, p: signed(embedder="another"), "this device embeds with minilm"),
    ],
)
def test_a_tampered_foreign_or_incompatible_artifact_is_refused_with_its_reason(tamper, reason):
    with pytest.raises(ArtifactRefused, match=reason):
        verify_artifact(*tamper(*signed()), KEY.public_key(), "minilm", 4)


def test_rows_of_another_dimension_are_refused():
    with pytest.raises(ArtifactRefused, match="4-d"):
        verify_artifact(*signed(), KEY.public_key(), "minilm", 384)
