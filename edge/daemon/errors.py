"""The daemon's errors as OpenAI error objects, and the body parsing that produces them."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from shared.errors import InvalidRequest, Overloaded

Model = TypeVar("Model", bound=BaseModel)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


@contextlib.contextmanager
def edge_errors() -> Iterator[None]:
    """The cascade's refusals as HTTP errors: bad input 400, a full local queue 429."""
    try:
        yield
    except InvalidRequest as exc:
        raise ApiError(400, str(exc), code="invalid_value") from exc
    except Overloaded as exc:
        raise ApiError(429, str(exc), "rate_limit_error", code="local_queue_full") from exc


async def read_json(request: Request, limit: int) -> dict:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body is larger than {limit} bytes", code="body_too_large")
    body = await request.body()
    if len(body) > limit:
        raise ApiError(413, f"request body is larger than {limit} bytes", code="body_too_large")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}", code="invalid_json") from exc
    except RecursionError as exc:
        raise ApiError(400, "request body nests JSON too deeply", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object", code="invalid_json")
    return data


def invalid_param(errors: Sequence[Any]) -> ApiError:
    first = errors[0]
    param = ".".join(str(p) for p in first["loc"])
    return ApiError(400, f"{param}: {first['msg']}", param=param, code="invalid_value")


def parse(model_cls: type[Model], data: dict) -> Model:
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        raise invalid_param(exc.errors()) from exc
