"""The residents' side (no token): the transparency page at /, the posko schedule at
/jadwal, and cek bansos at /cek. Server-rendered, Bahasa Indonesia by default (?lang=en
switches, and a cookie remembers it); every asset is served from here, never a CDN.

The page shows only what the public ledger shows (domain/transparency.py), and the
oversight's counts and times (app.state.oversight) where they run, "—" where they do not.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Cookie, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.audit.api import public_queries
from services.audit.api.deps import Settings
from services.audit.api.public_schemas import ReceiptCheckIn, ReceiptOut
from services.audit.api.schemas import b64
from services.audit.errors import NO_CHECKPOINT, RECEIPT_NOT_FOUND, RECEIPT_NOT_YET_SIGNED
from services.audit.templates import pages
from services.audit.templates.text import Lang
from shared import clock
from shared.deps import Reads
from shared.errors import RATE_LIMITED, errors
from shared.pii import commitments
from shared.ratelimit import limit as rate_limit

log = logging.getLogger("bansos.audit.public")
router = APIRouter(tags=["public page"])
STATIC = Path(__file__).parents[2] / "static"
ASSETS = {"page.css": "text/css; charset=utf-8", "cek.js": "text/javascript; charset=utf-8"}
LANG_COOKIE = "bansos_lang"
ONE_YEAR = 365 * 24 * 3600

LangParam = Literal["id", "en"]


def _lang(asked: LangParam | None, remembered: str | None) -> Lang:
    if asked is not None:
        return asked
    return "en" if remembered == "en" else "id"


def _html(text: str, lang: Lang, asked: LangParam | None) -> HTMLResponse:
    reply = HTMLResponse(text, headers={"Cache-Control": "no-cache"})
    if asked is not None:  # remember the reader's choice
        reply.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR, samesite="lax")
    return reply


def _oversight(request: Request) -> tuple[dict[str, int] | None, list[Any] | None]:
    """The oversight's finding counts and times, or None where it is not running (or
    fails: the page still shows what the ledger shows)."""
    oversight = getattr(request.app.state, "oversight", None)
    if oversight is None:
        return None, None
    try:
        return dict(oversight.finding_counts()), list(oversight.times())
    except Exception:
        log.exception("the oversight could not answer the public page")
        return None, None


@router.get(
    "/",
    response_class=HTMLResponse,
    summary="The public transparency page (HTML; ?lang=en for English)",
)
async def transparency(
    request: Request,
    session: Reads,
    settings: Settings,
    lang: LangParam | None = Query(default=None, description="id (default) or en"),
    bansos_lang: str | None = Cookie(default=None, max_length=2),
) -> HTMLResponse:
    chosen = _lang(lang, bansos_lang)
    fold = await public_queries.public_fold(request).current(session)
    latest = await public_queries.latest(session, settings)
    findings, times = _oversight(request)
    checkpoint = latest.checkpoint
    state = pages.LedgerState(
        size=fold.size,
        tree_size=checkpoint.tree_size if checkpoint else None,
        root=b64(checkpoint.root_hash) if checkpoint else None,
        cosigned_by=latest.cosigned_by,
        witnesses=latest.witnesses,
        url=str(request.base_url).rstrip("/"),
    )
    figures = fold.figures(clock.today(), settings.sla_resolve_days)
    text = pages.transparency(chosen, figures, state, findings, times, settings.sla_resolve_days)
    return _html(text, chosen, lang)


@router.get(
    "/jadwal",
    response_class=HTMLResponse,
    summary="The posko schedule of coming rounds per RW (HTML)",
)
async def schedule(
    request: Request,
    session: Reads,
    lang: LangParam | None = Query(default=None, description="id (default) or en"),
    bansos_lang: str | None = Cookie(default=None, max_length=2),
) -> HTMLResponse:
    chosen = _lang(lang, bansos_lang)
    fold = await public_queries.public_fold(request).current(session)
    today = clock.today()
    return _html(pages.schedule(chosen, fold.schedule(today), today.isoformat()), chosen, lang)


@router.get(
    "/cek",
    response_class=HTMLResponse,
    summary="cek bansos: a resident checks their aid by its receipt code (HTML)",
)
async def cek_page(
    lang: LangParam | None = Query(default=None, description="id (default) or en"),
    bansos_lang: str | None = Cookie(default=None, max_length=2),
) -> HTMLResponse:
    chosen = _lang(lang, bansos_lang)
    return _html(pages.cek(chosen), chosen, lang)


@router.post(
    "/cek/receipts",
    response_model=ReceiptOut,
    summary="What was handed over for a receipt code, with its leaf and inclusion proof",
    dependencies=[rate_limit("receipts", "receipt_check_rate")],
    responses=errors(RECEIPT_NOT_FOUND, RECEIPT_NOT_YET_SIGNED, NO_CHECKPOINT, RATE_LIMITED),
)
async def check_receipt(
    form: ReceiptCheckIn, request: Request, session: Reads, settings: Settings
) -> ReceiptOut:
    fold = await public_queries.public_fold(request).current(session)
    commitment = commitments(settings).receipt(form.code)
    return await public_queries.receipt(session, fold, settings, commitment)


@cache
def _asset(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@router.get("/static/{name}", include_in_schema=False)
async def asset(name: str) -> Response:
    if name not in ASSETS:
        return Response(status_code=404)
    return Response(
        _asset(name), media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=300"}
    )
