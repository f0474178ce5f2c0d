"""The HTTP edge every service shares: the app factory (from a service's spec), the one
error shape with statuses from the error catalogue, health and readiness."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from shared.auth import Role
from shared.domain import DomainError
from shared.errors import (
    BODY_TOO_LARGE,
    CATALOGUE,
    INTERNAL_ERROR,
    ROLE_NOT_ALLOWED,
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    TOKEN_MISSING,
    UNAVAILABLE,
    VALIDATION_FAILED,
    ErrorOut,
    errors,
)
from shared.runtime import Runtime
from shared.settings import CommonSettings
from shared.spec import ServiceSpec

log = logging.getLogger("bansos.http")

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
        error_body(VALIDATION_FAILED, f"{first['field']}: {first['message']}", details),
        status_code=422,
    )


async def _domain_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    details = [{"field": exc.field, "rule": exc.code, "message": exc.message}] if exc.field else []
    headers = {**exc.headers, **({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {})}
    return JSONResponse(
        error_body(exc.code, exc.message, details), status_code=exc.status, headers=headers
    )


RETRY_AFTER_S = 5


def outage(exc: BaseException) -> bool:
    """A dependency is down (its connection refused, dropped or timed out), not a fault of
    the request: the client may retry the same request later."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    return isinstance(exc, OSError | PoolTimeout)


async def _outage(request: Request, exc: Exception) -> Response:
    if not outage(exc):
        return await _fault(request, exc)
    log.warning("%s %s: dependency down: %s", request.method, request.url.path, exc)
    return JSONResponse(
        error_body(
            UNAVAILABLE,
            "the service's database or message bus is unavailable; retry shortly "
            "(a command that was refused was not applied)",
        ),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _fault(request: Request, exc: Exception) -> Response:
    """Anything else unexpected: logged with its trace, answered in the one error shape."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        error_body(INTERNAL_ERROR, "an unexpected fault of the service; it has been logged"),
        status_code=500,
    )


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = f"http_{exc.status_code}"
    return JSONResponse(
        error_body(code if code in CATALOGUE else "http_error", str(exc.detail)),
        status_code=exc.status_code,
        headers=exc.headers,
    )


def route_roles(route: APIRoute) -> list[str]:
    """Who may call a route: the roles of the `require(...)` it depends on (with admin, who
    passes every check), or `public` when it needs no token."""
    pending, roles = [route.dependant], None
    while pending:
        dependant = pending.pop()
        for dependency in dependant.dependencies:
            found = getattr(dependency.call, "bansos_roles", None)
            if found is not None:
                roles = [r.value for r in found] if found else [r.value for r in Role]
            pending.append(dependency)
    if roles is None:
        return ["public"]
    return sorted({*roles, Role.admin.value})


def document_roles(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Each operation of the API document says who may call it (`x-roles`) and, where a
    token is needed, documents the 401 and 403 it can answer."""
    build = app.openapi
    routes = [r for source in (app.router, *routers) for r in source.routes]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        for route in routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            roles = route_roles(route)
            for method in route.methods or ():
                operation = document["paths"][route.path_format][method.lower()]
                operation["x-roles"] = roles
                if roles != ["public"]:
                    for status, answer in errors(*TOKEN_ERRORS).items():
                        operation["responses"].setdefault(str(status), answer)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        error = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, schema in {**error.pop("$defs", {}), "ErrorOut": error}.items():
            schemas.setdefault(name, schema)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


TOKEN_ERRORS = (TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED, ROLE_NOT_ALLOWED)


def create_app(spec: ServiceSpec, settings: CommonSettings, version: str = "0.1.0") -> FastAPI:
    """The service's app: its runtime (database, broker, relay, consumers), its routes,
    and the kernel's error handlers, health, readiness and AsyncAPI."""
    runtime = Runtime(spec, settings, version)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # Swagger UI and ReDoc from the service itself, never a CDN: /docs works on an office
    # network without the internet.
    app = FastAPIOffline(
        title=spec.title,
        description=spec.description,
        version=version,
        lifespan=lifespan,
        max_body_size=runtime.settings.max_body_bytes,
        # Bad input answers with the one error shape, not FastAPI's default one; a body
        # too large and a dependency that is down can meet any route.
        responses=errors(VALIDATION_FAILED, BODY_TOO_LARGE, UNAVAILABLE),
    )
    app.state.settings = runtime.settings
    app.state.runtime = runtime
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(HTTPException, _http_error)
    for outage_kind in (DBAPIError, PoolTimeout, OSError):
        app.add_exception_handler(outage_kind, _outage)
    app.add_exception_handler(Exception, _fault)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": runtime.settings.service_name}

    @app.get("/ready", tags=["operations"])
    async def ready() -> Response:
        checks = await runtime.readiness()
        ok = all(v == "ok" for v in checks.values())
        body: dict[str, Any] = {"status": "ready" if ok else "not_ready", "checks": checks}
        if runtime.settings.http_workers > 1:  # which worker answered, and what it runs
            body["worker"] = {"pid": os.getpid(), "background": runtime.leading}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get(
        "/asyncapi.json",
        tags=["operations"],
        summary="AsyncAPI 3.0 of the events it publishes and the subjects it receives",
    )
    async def asyncapi() -> dict[str, Any]:
        return runtime.asyncapi_document()

    if settings.trusted_proxies:
        # Only these may say who the client is (X-Forwarded-For): the rate limits count
        # per real client, and anyone else's header is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    for router in spec.routers:
        app.include_router(router)
    if not any(getattr(r, "path", None) == "/" for router in spec.routers for r in router.routes):

        @app.get("/", include_in_schema=False)
        async def home() -> Response:
            """The service's own page is its API documentation."""
            return RedirectResponse("/docs")

    if spec.setup is not None:
        spec.setup(runtime, app)
    document_roles(app, spec.routers)
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="health,ready", exclude_spans=["receive", "send"]
    )
    return app
