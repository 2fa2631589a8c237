"""POST /v1/chat/completions and /v1/completions: the cascade behind OpenAI's API, streamed as it decides."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from edge.core.query import Query
from edge.daemon import responses
from edge.daemon.disconnect import ClientGone, stream_until_disconnect, until_disconnect
from edge.daemon.errors import ApiError, edge_errors, parse, read_json
from edge.daemon.schemas import ChatCompletionRequest, CompletionRequest
from edge.daemon.state import AppSpace, DaemonState
from edge.pipeline.result import AnswerDelta, AnswerEvent, CascadeResult
from shared.logging_setup import request_id_var

router = APIRouter()
CLIENT_CLOSED = 499  # nginx's code for "client closed the request"; never seen by the client that left


async def _answer(request: Request, model_cls: type[ChatCompletionRequest] | type[CompletionRequest]) -> Response:
    state: DaemonState = request.app.state.tandem
    config = state.config.daemon
    space = state.space(request)
    body = parse(model_cls, await read_json(request, config.max_body_bytes))
    if body.model != config.model_name:
        raise ApiError(
            404,
            f"model '{body.model}' does not exist; this daemon serves '{config.model_name}'",
            param="model",
            code="model_not_found",
        )
    chat = model_cls is ChatCompletionRequest
    with edge_errors():
        query = body.to_query(config.max_input_chars, uuid.uuid4().hex, space.namespace.style)
        request_id_var.set(query.request_id)  # tasks made from here on inherit it, for the logs
        query = await space.namespace.private(query)  # what is recorded of it below follows its privacy
        if not body.stream:
            try:
                result = await until_disconnect(request, space.namespace.answer(query))
            except ClientGone:
                return Response(status_code=CLIENT_CLOSED)
            await state.record(space, query, result)
            build = responses.chat_completion if chat else responses.completion
            return JSONResponse(build(result, config.model_name, body.wants_logprobs()))
        events = space.namespace.answer_stream(query)
        try:
            # The first event decides the status: a refusal (400/429) must come before the stream starts.
            first = await until_disconnect(request, anext(events))
        except ClientGone:
            return Response(status_code=CLIENT_CLOSED)
    source = _sse(state, space, query, events, first, chat)
    return StreamingResponse(stream_until_disconnect(request, source), media_type="text/event-stream")


async def _sse(
    state: DaemonState,
    space: AppSpace,
    query: Query,
    events: AsyncGenerator[AnswerEvent, None],
    first: AnswerEvent,
    chat: bool,
) -> AsyncGenerator[str, None]:
    base = responses.envelope(query.request_id, state.config.daemon.model_name, chat, stream=True)
    base["created"] = int(time.time())
    try:
        if chat:
            yield responses.sse_role(base)
        event = first
        while isinstance(event, AnswerDelta):
            yield responses.sse_delta(base, event.text, chat)
            event = await anext(events)
        assert isinstance(event, CascadeResult)
        await state.record(space, query, event)
        yield responses.sse_final(base, event, chat)
    finally:
        await events.aclose()


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    return await _answer(request, ChatCompletionRequest)


@router.post("/v1/completions")
async def completions(request: Request) -> Response:
    return await _answer(request, CompletionRequest)
