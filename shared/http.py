"""The HTTP edge every service shares: app factory, error shape, health and readiness."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.exceptions import HTTPException

from shared.domain import DomainError
from shared.runtime import Runtime

RULES = {
    "missing": "required",
    "json_invalid": "valid_json",
    "extra_forbidden": "unknown_field",
}


def error_body(code: str, message: str, details: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"error": code, "message": message, "details": list(details)}


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "field": _field(err.get("loc", ())),
            "rule": RULES.get(err["type"], err["type"]),
            "message": str(err.get("msg", "")).removeprefix("Value error, "),
        }
        for err in exc.errors()
    ]
    first = details[0] if details else {"field": "body", "message": "invalid"}
    return JSONResponse(
        error_body("validation_failed", f"{first['field']}: {first['message']}", details),
        status_code=422,
    )


async def _domain_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    details = [{"field": exc.field, "rule": exc.code, "message": exc.message}] if exc.field else []
    headers = {**exc.headers, **({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {})}
    return JSONResponse(
        error_body(exc.code, exc.message, details), status_code=exc.status, headers=headers
    )


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        error_body(f"http_{exc.status_code}", str(exc.detail)),
        status_code=exc.status_code,
        headers=exc.headers,
    )


def create_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    version: str = "0.1.0",
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        max_body_size=runtime.settings.max_body_bytes,
    )
    app.state.settings = runtime.settings
    app.state.runtime = runtime
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(HTTPException, _http_error)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": runtime.settings.service_name}

    @app.get("/ready", tags=["operations"])
    async def ready() -> Response:
        checks = await runtime.readiness()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI 3.0 of published events")
    async def asyncapi() -> Response:
        return Response(
            runtime.asyncapi.to_specification().to_json(), media_type="application/json"
        )

    for router in routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="health,ready", exclude_spans=["receive", "send"]
    )
    return app
