"""[daemon.privacy]: what the device does with personal data in a request that could leave it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from shared.config.base import Section, check_namespace

Mode = Literal["off", "redact", "local_only"]
Kind = Literal["email", "phone", "card", "iban", "ip", "ssn", "crypto", "secret", "person", "location"]
MODE_ORDER: tuple[Mode, ...] = ("off", "redact", "local_only")


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

    @property
    def may_act(self) -> bool:
        """Some app's policy acts on some type (requests may still tighten an "off" policy)."""
        rules = [self.mode, *self.types.values()]
        rules += [mode for app in self.namespaces.values() for mode in (app.mode, *app.types.values()) if mode]
        return any(mode != "off" for mode in rules)

    def action(self, namespace: str, kind: Kind) -> Mode:
        """What the app's policy does with `kind`: the app's own settings (its type's mode, then its mode) before
        the daemon's (its type's mode, then its mode)."""
        app = self.namespaces.get(namespace, NamespacePrivacy())
        return app.types.get(kind) or app.mode or self.types.get(kind) or self.mode
