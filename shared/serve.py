"""Run one service under uvicorn: `python -m services.<name>`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from shared.settings import CommonSettings

S = TypeVar("S", bound=CommonSettings)


def serve(factory: Callable[[S], FastAPI], settings: S) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s {settings.service_name} %(levelname)s %(name)s: %(message)s",
    )
    uvicorn.run(
        factory(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
