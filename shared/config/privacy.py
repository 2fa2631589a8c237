"""[daemon.privacy]: what the device does with personal data in a request that could leave it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from shared.config.base import Section, check_namespace

Mode = Literal["off", "redact", "local_only"]
Kind = Literal["email", "phone", "card", "iban", "ip", "ssn", "crypto", "secret", "person", "location"]
NAMES: tuple[Kind, ...] = ("person", "location")


class NamespacePrivacy(Section):
    """One app's policy; unset fields follow the daemon's."""

    mode: Mode | None = Field(None, description="This app's mode (unset: the daemon's).")
    types: dict[Kind, Mode] = Field(default_factory=dict, description="Per-type modes for this app.")


class PrivacyConfig(Section):
    flag_prefix: ClassVar[str] = "privacy-"

    mode: Mode = Field(
        "redact",
        description="off: requests leave as they are; redact: personal data leaves as typed placeholders, restored "
        "in the answer on the device; local_only: a request with personal data is answered on the device only.",
    )
    names: Mode | None = Field(
        "off",
        description="Mode for person names and places (the NER model) where no per-type or app setting says "
        "otherwise; unset: `mode`. Off by default: questions about public figures and places are everyday traffic "
        "the cloud must see, and the NER check costs milliseconds per request.",
    )
    types: dict[Kind, Mode] = Field(
        default_factory=dict,
        description='Per-type modes over `mode` (e.g. {secret = "local_only", location = "off"}); types: '
        "email, phone, card, iban, ip, ssn, crypto, secret, person, location.",
    )
    namespaces: dict[str, NamespacePrivacy] = Field(
        default_factory=dict, description="Per-app policies, by namespace ([daemon.privacy.namespaces.<app>])."
    )

    @field_validator("namespaces")
    @classmethod
    def _names(cls, v: dict[str, NamespacePrivacy]) -> dict[str, NamespacePrivacy]:
        for name in v:
            check_namespace(name)
        return v

    def acts_on_names(self, namespaces: Iterable[str]) -> bool:
        """Some app's policy acts on names or places: the NER model then loads at start, not on a first request."""
        return any(self.action(ns, kind) != "off" for ns in namespaces for kind in NAMES)

    def action(self, namespace: str, kind: Kind) -> Mode:
        """What the app's policy does with `kind`: the app's own settings (its type's mode, then its mode) before
        the daemon's (its type's mode, then `names` for names and places, then its mode)."""
        app = self.namespaces.get(namespace, NamespacePrivacy())
        names = self.names if kind in NAMES else None
        return app.types.get(kind) or app.mode or self.types.get(kind) or names or self.mode
