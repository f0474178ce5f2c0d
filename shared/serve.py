"""Run one service under uvicorn: `python -m shared.serve <name>` (what `bansos up`
starts), or `python -m services.<name>`.

With `BANSOS_HTTP_WORKERS=N` above 1, uvicorn's supervisor runs N worker processes on
the one port (and restarts one that dies); each builds the app from the service's name.
"""

from __future__ import annotations

import logging
import os
import sys

import uvicorn
from fastapi import FastAPI

from shared.db import is_sqlite
from shared.settings import CommonSettings, InsecureSettings
from shared.spec import ServiceSpec, discover

WORKER_SERVICE = "BANSOS_WORKER_SERVICE"  # which service a spawned worker builds


def check_workers(spec: ServiceSpec, settings: CommonSettings) -> None:
    """Refuse more than one worker where workers would disagree: SQLite has one writer
    and no advisory locks to elect the background worker with, and a `one_process`
    service's routes read memory only its background worker holds."""
    if settings.http_workers == 1:
        return
    if spec.one_process:
        raise ValueError(
            f"BANSOS_HTTP_WORKERS is {settings.http_workers}: the {spec.name} service runs in "
            "one process (its routes read what its ingest holds); set it to 1"
        )
    if is_sqlite(settings.database_url):
        raise ValueError(
            f"BANSOS_HTTP_WORKERS is {settings.http_workers}: several workers need PostgreSQL "
            "(BANSOS_DATABASE_URL is SQLite, one writer at a time); set it to 1"
        )


def _configure_logging(spec: ServiceSpec, settings: CommonSettings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s {spec.name}[%(process)d] %(levelname)s %(name)s: %(message)s",
    )


def worker_app() -> FastAPI:
    """The app of one of several workers (uvicorn calls this in each spawned process)."""
    spec = discover()[os.environ[WORKER_SERVICE]]
    settings = spec.settings()
    _configure_logging(spec, settings)
    return spec.app(settings)


def serve(spec: ServiceSpec) -> None:
    try:
        settings = spec.settings()
        check_workers(spec, settings)
        app = spec.app(settings) if settings.http_workers == 1 else None
    except (InsecureSettings, ValueError) as exc:  # a setting to fix: say which, no trace
        sys.exit(f"{spec.name} cannot start: {exc}")
    _configure_logging(spec, settings)
    if app is None:
        os.environ[WORKER_SERVICE] = spec.name  # spawned workers inherit the environment
    uvicorn.run(
        app if app is not None else "shared.serve:worker_app",
        factory=app is None,
        workers=settings.http_workers if app is None else None,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # The app decides whom to believe about the client (BANSOS_TRUSTED_PROXIES), not
        # uvicorn, which by default believes anyone on 127.0.0.1.
        proxy_headers=False,
    )


if __name__ == "__main__":
    specs = discover()
    if len(sys.argv) != 2 or sys.argv[1] not in specs:
        sys.exit(f"usage: python -m shared.serve {{{','.join(specs)}}}")
    serve(specs[sys.argv[1]])
