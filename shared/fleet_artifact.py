"""The fleet router as it travels: labeled rows (NumPy .npz), a JSON manifest naming the rows' SHA-256, and an
Ed25519 signature over the manifest. The cloud signs (cloud/fleet), devices verify before they use it (edge/fleet).

A device refuses an artifact whose signature, payload hash, embedder or format it cannot vouch for, with the reason;
its old router stays.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = 1
AGREEMENT, FEEDBACK = "agreement", "feedback"  # row kinds: the cloud's answer as a label, or the app's


class ArtifactRefused(Exception):
    """The artifact cannot be used; the message says why."""


@dataclass(frozen=True)
class FleetRows:
    embeddings: np.ndarray  # (n, dim) float32
    edge_correct: np.ndarray  # (n,) float, NaN: unknown
    cloud_correct: np.ndarray  # (n,) float, NaN: unknown
    kinds: np.ndarray  # (n,) str: AGREEMENT or FEEDBACK

    def __len__(self) -> int:
        return len(self.kinds)


@dataclass(frozen=True)
class FleetManifest:
    version: int
    tenant: str
    rows: int
    counts: dict[str, int]  # rows per kind and per contributing tenant ("tenant:<name>")
    embedder: str
    dim: int
    edge_models: list[str]
    created: float
    payload_sha256: str
    format: int = FORMAT

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> FleetManifest:
        try:
            return cls(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise ArtifactRefused(f"the manifest does not parse: {exc}") from exc


def pack_rows(rows: FleetRows) -> bytes:
    out = io.BytesIO()
    np.savez_compressed(
        out,
        embeddings=rows.embeddings.astype(np.float32),
        edge_correct=rows.edge_correct.astype(np.float64),
        cloud_correct=rows.cloud_correct.astype(np.float64),
        kinds=rows.kinds.astype(str),
    )
    return out.getvalue()


def unpack_rows(payload: bytes) -> FleetRows:
    with np.load(io.BytesIO(payload), allow_pickle=False) as z:
        return FleetRows(z["embeddings"], z["edge_correct"], z["cloud_correct"], z["kinds"])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_pem(key: Ed25519PrivateKey) -> bytes:
    pkcs8, none = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, pkcs8, none)


def verify_artifact(
    manifest: bytes, signature: bytes, payload: bytes, key: Ed25519PublicKey, embedder: str, dim: int
) -> tuple[FleetManifest, FleetRows]:
    """The manifest and rows when every check passes; raises ArtifactRefused naming the first that fails."""
    try:
        key.verify(signature, manifest)
    except InvalidSignature as exc:
        raise ArtifactRefused("bad signature: not signed by the configured fleet key") from exc
    m = FleetManifest.from_bytes(manifest)
    if m.format != FORMAT:
        raise ArtifactRefused(f"format {m.format}; this device reads format {FORMAT}")
    if sha256(payload) != m.payload_sha256:
        raise ArtifactRefused("the payload's SHA-256 is not the one the manifest signs")
    if m.embedder != embedder or m.dim != dim:
        mine = f"{embedder} ({dim}-d)"
        raise ArtifactRefused(f"rows embedded by {m.embedder} ({m.dim}-d); this device embeds with {mine}")
    rows = unpack_rows(payload)
    if len(rows) != m.rows or rows.embeddings.shape[1:] != (dim,):
        raise ArtifactRefused(f"{len(rows)} rows of shape {rows.embeddings.shape[1:]}; the manifest says {m.rows}")
    return m, rows
