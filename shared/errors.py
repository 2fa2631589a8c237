"""Tandem's exception taxonomy, mapped once to gRPC status codes (and later HTTP)."""

from __future__ import annotations


class TandemError(Exception):
    """Base class; `code` names the gRPC status code it maps to."""

    code = "INTERNAL"


class InvalidRequest(TandemError):
    """The request is malformed; the message names the field and the bad value."""

    code = "INVALID_ARGUMENT"


class Overloaded(TandemError):
    """A concurrency or queue limit is reached; the caller may retry later."""

    code = "RESOURCE_EXHAUSTED"


class ShuttingDown(TandemError):
    code = "UNAVAILABLE"


class EngineUnavailable(TandemError):
    """No engine can take the request now (a replica was lost mid-stream); the caller may retry."""

    code = "UNAVAILABLE"


class BackendFailure(TandemError):
    """The generation engine failed; the request did not complete."""

    code = "INTERNAL"


class Unimplemented(TandemError):
    """The request asks for something this engine cannot do."""

    code = "UNIMPLEMENTED"


class ModelNotReady(TandemError):
    """A model folder is missing or failed verification."""

    code = "FAILED_PRECONDITION"


class InvalidConfig(TandemError):
    """The configuration would be unsafe or cannot work; the message says what to change."""

    code = "FAILED_PRECONDITION"
