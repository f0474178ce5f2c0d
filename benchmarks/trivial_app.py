"""The HTTP baseline: a trivial FastAPI POST with a pydantic body, run under uvicorn as
the services run (one worker, no access log). It takes a registration's body and
answers 201 without touching anything, so what a service costs beyond it is its own."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Body(BaseModel):
    kk_number: str
    rt: str
    rw: str
    members: list[dict[str, Any]]


class Created(BaseModel):
    kk_number: str


@app.post("/households", status_code=201)
async def create(body: Body) -> Created:
    return Created(kk_number=body.kk_number)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
