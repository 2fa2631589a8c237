"""[edge.fleet] and [cloud.fleet]: what devices share with the fleet, what the cloud keeps, and the router built
from it (cloud/fleet, edge/fleet)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from shared.config.base import Section, check_name

FleetShare = Literal["off", "embeddings", "text"]


class EdgeFleetConfig(Section):
    """What this device shares with its fleet and how it uses the fleet's router."""

    flag_prefix: ClassVar[str] = "fleet-"
    share: FleetShare = Field(
        "off",
        description="What the cloud may keep of this device's escalations and labels for fleet learning: off "
        "(nothing), embeddings (question embeddings, labels, confidences; never text), text (also the question, "
        "draft and answer). The cloud keeps nothing unless its tenant consented too.",
    )
    public_key: str = Field(
        "", description="Ed25519 public key (PEM) that signs fleet routers; empty: no fleet router is fetched."
    )
    poll_s: float = Field(300.0, gt=0, description="How often to upload labels and ask for a newer fleet router.")
    weight: float = Field(
        0.5, gt=0, le=1, description="A fleet row's weight in the router against one of this device's own labels."
    )
    upload_batch: int = Field(200, ge=1, le=1000, description="Labels per upload call.")


class CloudFleetConfig(Section):
    """Fleet records kept with each tenant's consent, and the signed routers built from them."""

    flag_prefix: ClassVar[str] = "fleet-"
    consent: list[str] = Field(
        default_factory=list,
        description="Tenants whose devices' escalations and labels are recorded ('*': all); a tenant taken off is "
        "dropped from the next build.",
    )
    pooled: list[str] = Field(
        default_factory=list,
        description="Consenting tenants that share rows with each other: each one's router also learns from the "
        "others' ('*': all). Any other tenant's router holds only its own rows.",
    )
    dir: str = Field("", description="Records, artifacts and the signing key. Empty: <data_dir>/fleet.")
    flush_records: int = Field(256, ge=1, description="Records buffered before they are written to Parquet.")
    flush_s: float = Field(10.0, gt=0, description="Buffered records are written at least this often.")

    @field_validator("consent", "pooled")
    @classmethod
    def _tenants(cls, names: list[str]) -> list[str]:
        if "*" in names and names != ["*"]:
            raise ValueError("'*' (all) stands alone")
        return names if names == ["*"] else [check_name(n, "tenant") for n in names]

    def consents(self, tenant: str) -> bool:
        return self.consent == ["*"] or tenant in self.consent

    def pools(self, tenant: str) -> bool:
        return self.consents(tenant) and (self.pooled == ["*"] or tenant in self.pooled)
