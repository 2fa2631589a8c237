"""The daemon's HTTP app: the factory that owns its state, its lifespan and its error mapping.

Routes live in edge/daemon/routes/, one module per concern; all state lives in a `DaemonState` made here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from edge.agent import EdgeAgent, namespace_dir
from edge.daemon.device import DeviceSensor, PsutilSensor
from edge.daemon.errors import ApiError, invalid_param
from edge.daemon.outbox import Outbox, Reconciler
from edge.daemon.routes import completions, health, tandem
from edge.daemon.state import AppSpace, DaemonState
from shared.config import TandemConfig

log = logging.getLogger(__name__)


def create_app(config: TandemConfig, sensor: DeviceSensor | None = None) -> FastAPI:
    state = DaemonState(config, sensor or PsutilSensor())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            # Built on the loop thread: the gRPC channel binds to this loop.
            agent = EdgeAgent(config, device=lambda: state.shift, namespaces=state.tokens.namespaces)
            state.start(await stack.enter_async_context(agent))
            daemon = config.daemon
            tasks = [asyncio.create_task(state.sample_forever())]
            for name, namespace in agent.namespaces.items():
                outbox = Outbox(namespace_dir(config, name) / "outbox.sqlite", agent.storage)
                stack.callback(outbox.close)
                state.spaces[name] = AppSpace(namespace, outbox)
                on_pass = functools.partial(state.metrics.reconciler_pass, name)
                reconciler = Reconciler(outbox, namespace, daemon.outbox_interval_s, daemon.outbox_batch, on_pass)
                tasks.append(asyncio.create_task(reconciler.run()))
            if agent.fleet is not None:
                tasks.append(asyncio.create_task(agent.fleet.run()))
            await asyncio.to_thread(state.sample_device)
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    app = FastAPI(title="Tandem edge daemon", lifespan=lifespan)
    app.state.tandem = state
    header_limit = config.daemon.max_header_bytes

    @app.middleware("http")
    async def _header_limit(request: Request, call_next):
        # httptools parses headers of any size; a megabyte of headers must not reach a route.
        size = sum(len(k) + len(v) for k, v in request.scope["headers"])
        if size > header_limit:
            message = f"request headers are {size} bytes; at most {header_limit} allowed"
            return await _api_error(request, ApiError(431, message, param="headers", code="headers_too_large"))
        return await call_next(request)

    for module in (completions, health, tandem):
        app.include_router(module.router)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        state.metrics.http_errors.labels(str(exc.status)).inc()
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _bad_params(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await _api_error(request, invalid_param(exc.errors()))

    @app.exception_handler(sqlite3.Error)
    async def _storage(request: Request, exc: sqlite3.Error) -> JSONResponse:
        state.agent.storage.failed(request.url.path, exc)
        return await _api_error(
            request, ApiError(503, f"local storage failed: {exc}", "server_error", code="storage_error")
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return await _api_error(request, ApiError(500, "internal error; see the daemon log", "server_error"))

    return app
