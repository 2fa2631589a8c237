"""Checks on text bound for a model, shared by the cloud's gRPC validation and the daemon's HTTP schemas."""

from __future__ import annotations

MAX_STOP_CHARS = 256


def text_problem(value: str) -> str | None:
    """Why `value` cannot go to a model (NUL, or a lone surrogate JSON lets through), or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"is not valid Unicode ({exc.reason} at {exc.start})"
    return None
