"""The public pages, rendered on the server as plain HTML (no template engine, no CDN):
every value goes through `esc`, every asset is served by the service (/static/…).

Phones first: one column of cards, tables of few columns that wrap, bars in CSS, long
hashes broken anywhere, so a 390-px-wide screen never scrolls sideways.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from services.audit.domain.public_figures import Figures, Posko, Shown
from services.audit.templates.text import CATEGORIES, RULES, STEPS, Lang, label, t
from shared.events.public import suppressed


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def idr(value: Shown, lang: Lang) -> str:
    if isinstance(value, str):
        return value  # "<5": suppressed with its count
    grouped = f"{value:,}"
    return f"Rp {grouped.replace(',', '.')}" if lang == "id" else f"IDR {grouped}"


def pct(value: int | None) -> str:
    return "—" if value is None else f"{value}%"


def number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def table(head: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """Cells are already escaped HTML."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<div class="table"><table class="{cls}"><thead><tr>{th}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def section(key: str, lang: Lang, body: str, id_: str) -> str:
    """A section headed by the text `key`; `body` is already escaped HTML."""
    return f'<section id="{id_}"><h2>{esc(t(lang, key))}</h2>{body}</section>'


def absent(lang: Lang, key: str = "dash") -> str:
    return f'<p class="absent">{esc(t(lang, key))}</p>'


def layout(lang: Lang, title: str, body: str, path: str, scripts: Sequence[str] = ()) -> str:
    other: Lang = "en" if lang == "id" else "id"
    nav = "".join(
        f'<a href="{href}?lang={lang}"{" aria-current=page" if href == path else ""}>'
        f"{esc(t(lang, key))}</a>"
        for href, key in (("/", "nav_page"), ("/jadwal", "nav_schedule"), ("/cek", "nav_cek"))
    )
    js = "".join(f'<script src="{src}" defer></script>' for src in scripts)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title>"
        '<link rel="stylesheet" href="/static/page.css">'
        f"{js}</head><body>"
        f'<header><p class="brand">{esc(t(lang, "title"))}</p>'
        f'<nav>{nav}<a id="lang-switch" href="{path}?lang={other}" lang="{other}">'
        f"{esc(t(lang, 'switch'))}</a></nav></header>"
        f"<main>{body}</main></body></html>"
    )


# --- the transparency page -----------------------------------------------------------------
@dataclass(frozen=True)
class LedgerState:
    size: int
    tree_size: int | None
    root: str | None
    cosigned_by: int
    witnesses: int
    url: str


def transparency(
    lang: Lang,
    figures: Figures,
    ledger: LedgerState,
    findings: dict[str, int] | None,
    times: Sequence[Any] | None,
    resolve_days: int,
) -> str:
    parts = [
        f"<h1>{esc(t(lang, 'title'))}</h1><p class=lead>{esc(t(lang, 'intro'))}</p>",
        _totals(lang, figures),
        _per_rw(lang, figures),
        _idr_chart(lang, figures),
        _rounds(lang, figures),
        _training(lang, figures),
        _complaints(lang, figures, times, resolve_days),
        _times(lang, times),
        _findings(lang, findings),
        _ledger(lang, ledger),
    ]
    return layout(lang, t(lang, "title"), "".join(parts), "/")


def _totals(lang: Lang, f: Figures) -> str:
    return (
        '<section class="cards totals">'
        f'<div class="card"><h2>{esc(t(lang, "allocated_idr"))}</h2>'
        f'<p class="big" id="total-allocated">{esc(idr(f.allocated_idr, lang))}</p></div>'
        f'<div class="card"><h2>{esc(t(lang, "received_idr"))}</h2>'
        f'<p class="big" id="total-received">{esc(idr(f.received_idr, lang))}</p></div>'
        "</section>"
    )


def _per_rw(lang: Lang, f: Figures) -> str:
    if not f.rws:
        return section("per_rw", lang, absent(lang, "none_yet"), "per-rw")
    cards = []
    for rw in f.rws:
        rows = [
            ("households", esc(rw.households)),
            ("allocated", esc(rw.allocated)),
            ("received", esc(rw.received)),
            ("outstanding", esc(rw.outstanding)),
            ("progress", esc(pct(rw.received_pct))),
            ("allocated_idr", esc(idr(rw.allocated_idr, lang))),
            ("received_idr", esc(idr(rw.received_idr, lang))),
            ("complaints_filed", esc(rw.complaints_filed)),
            ("appeals_filed", esc(rw.appeals_filed)),
            ("appeals_upheld", esc(rw.appeals_upheld)),
            ("residents_reached", esc(rw.residents_reached)),
            ("cases_opened", esc(rw.cases_opened)),
        ]
        items = "".join(
            f'<dt>{esc(t(lang, key))}</dt><dd data-field="{key}">{value}</dd>'
            for key, value in rows
        )
        rounds = "".join(
            f"<li>{esc(r.programme)} {esc(r.period)}: {esc(r.received)} / {esc(r.allocated)}"
            f" ({esc(pct(r.received_pct))})</li>"
            for r in rw.rounds
        )
        cards.append(
            f'<article class="card" id="rw-{esc(rw.rw)}"><h3>RW {esc(rw.rw)}</h3>'
            f'<dl>{items}</dl><ul class="rounds">{rounds}</ul></article>'
        )
    return section("per_rw", lang, f'<div class="cards">{"".join(cards)}</div>', "per-rw")


def _bar(value: float, top: float, cls: str) -> str:
    width = 0.0 if top <= 0 else max(0.0, min(100.0, 100 * value / top))
    return f'<span class="bar {cls}" style="width:{width:.1f}%"></span>'


def _idr_chart(lang: Lang, f: Figures) -> str:
    shown = [rw for rw in f.rws if isinstance(rw.allocated_idr, int)]
    if not shown:
        return ""
    top = max(int(rw.allocated_idr) for rw in shown)
    rows = []
    for rw in f.rws:
        allocated = rw.allocated_idr if isinstance(rw.allocated_idr, int) else 0
        received = rw.received_idr if isinstance(rw.received_idr, int) else 0
        rows.append(
            f'<div class="chart-row"><span class="chart-label">RW {esc(rw.rw)}</span>'
            f'<span class="bars">{_bar(allocated, top, "allocated")}'
            f"{_bar(received, top, 'received')}</span>"
            f'<span class="chart-value">{esc(idr(rw.received_idr, lang))} / '
            f"{esc(idr(rw.allocated_idr, lang))}</span></div>"
        )
    legend = (
        f'<p class="legend"><span class="key allocated"></span>{esc(t(lang, "allocated_idr"))} '
        f'<span class="key received"></span>{esc(t(lang, "received_idr"))}</p>'
    )
    return (
        f"<section><h2>{esc(t(lang, 'chart_idr'))}</h2>{legend}"
        f'<div class="chart" role="img" aria-label="{esc(t(lang, "chart_idr"))}">'
        f"{''.join(rows)}</div></section>"
    )


def _rounds(lang: Lang, f: Figures) -> str:
    if not f.rounds:
        return ""
    rows = []
    for r in f.rounds:
        status = [t(lang, "endorsed" if r.endorsed else "not_endorsed")]
        if r.closed:
            status.append(t(lang, "closed"))
        days = r.first_day if r.first_day == r.last_day else f"{r.first_day} – {r.last_day}"
        rows.append(
            [
                f"{esc(r.programme)} {esc(r.period)}<br><small>RW {esc(', '.join(r.rws))}</small>",
                esc(days or "—"),
                f"{esc(r.received)} / {esc(r.allocated)} ({esc(pct(r.received_pct))})",
                esc(r.undelivered),
                esc(", ".join(status)),
            ]
        )
    head = [t(lang, k) for k in ("programme", "days", "received", "undelivered", "status")]
    return (
        f"<section><h2>{esc(t(lang, 'rounds'))}</h2>{table([esc(h) for h in head], rows)}</section>"
    )


def _training(lang: Lang, f: Figures) -> str:
    if not f.training:
        return section("training", lang, absent(lang, "none_yet"), "training")
    rows = [
        [
            esc(label(CATEGORIES, c.category, lang)),
            esc(c.courses),
            esc(c.enrolled),
            f'<span data-field="completed">{esc(c.completed)}</span>',
            esc(c.withdrawn),
        ]
        for c in f.training
    ]
    head = [t(lang, k) for k in ("category", "courses", "enrolled", "completed", "withdrawn")]
    return (
        f'<section id="training"><h2>{esc(t(lang, "training"))}</h2>'
        f"{table([esc(h) for h in head], rows)}</section>"
    )


def _latest_by(times: Sequence[Any], step: str, *, per_rw: bool) -> dict[str | None, Any]:
    """The latest month's time of a step, per RW (or for all RWs), all programmes."""
    found: dict[str | None, Any] = {}
    for s in times:
        if s.step != step or s.programme is not None or (s.rw is not None) != per_rw:
            continue
        if s.rw not in found or s.month > found[s.rw].month:
            found[s.rw] = s
    return found


def _complaints(lang: Lang, f: Figures, times: Sequence[Any] | None, resolve_days: int) -> str:
    c = f.complaints
    rows = [
        ("filed", c.filed),
        ("acknowledged", c.acknowledged),
        ("escalated", c.escalated),
        ("resolved", c.resolved),
        ("open", c.open),
    ]
    items = "".join(
        f'<dt>{esc(t(lang, key))}</dt><dd data-field="complaints-{key}">{esc(v)}</dd>'
        for key, v in rows
    )
    items += (
        f"<dt>{esc(t(lang, 'past_sla', days=c.resolve_days))}</dt>"
        f'<dd data-field="complaints-past-sla">{esc(c.past_sla_at_least)}</dd>'
    )
    return (
        f'<section id="complaints"><h2>{esc(t(lang, "complaints"))}</h2>'
        f'<div class="card"><dl>{items}</dl></div>{_sla_chart(lang, times, resolve_days)}</section>'
    )


def _sla_chart(lang: Lang, times: Sequence[Any] | None, resolve_days: int) -> str:
    heading = f"<h3>{esc(t(lang, 'sla_chart', days=resolve_days))}</h3>"
    per_rw = _latest_by(times or (), "complaint_filed_to_resolved", per_rw=True)
    shown = {rw: s for rw, s in per_rw.items() if s.count >= 5}
    if not shown:
        return f'{heading}<p class="absent">{esc(t(lang, "dash"))}</p>'
    top = max([resolve_days, *(s.p90_days for s in shown.values())]) * 1.1
    line = f'<span class="sla-line" style="left:{100 * resolve_days / top:.1f}%"></span>'
    rows = []
    for rw in sorted(per_rw, key=str):
        s = per_rw[rw]
        late = "late" if s.p90_days > resolve_days else "ok"
        bar = _bar(s.p90_days, top, late) if s.count >= 5 else ""
        value = number(s.p90_days) if s.count >= 5 else suppressed(s.count)
        rows.append(
            f'<div class="chart-row"><span class="chart-label">RW {esc(rw)}</span>'
            f'<span class="bars sla">{bar}{line}</span>'
            f'<span class="chart-value">{esc(value)}</span></div>'
        )
    return f'{heading}<div class="chart">{"".join(rows)}</div>'


def _times(lang: Lang, times: Sequence[Any] | None) -> str:
    heading = f"<h2>{esc(t(lang, 'times'))}</h2>"
    if times is None:
        return section("times", lang, absent(lang), "times")
    rows = []
    for step in dict.fromkeys([*STEPS, *(s.step for s in times)]):
        found = _latest_by(times, step, per_rw=False).get(None)
        if found is None:
            continue
        small = found.count < 5
        rows.append(
            [
                esc(label(STEPS, step, lang)),
                esc(found.month),
                esc(suppressed(found.count)),
                "—" if small else esc(number(found.median_days)),
                "—" if small else esc(number(found.p90_days)),
            ]
        )
    if not rows:
        return section("times", lang, absent(lang), "times")
    head = [t(lang, k) for k in ("step", "month", "count", "median", "p90")]
    return f'<section id="times">{heading}{table([esc(h) for h in head], rows)}</section>'


def _findings(lang: Lang, findings: dict[str, int] | None) -> str:
    heading = f"<h2>{esc(t(lang, 'findings'))}</h2>"
    if findings is None:
        return section("findings", lang, absent(lang), "findings")
    codes = list(dict.fromkeys([*RULES, *sorted(findings)]))
    rows = [
        [
            esc(label(RULES, code, lang)),
            f'<span data-rule="{esc(code)}">{esc(suppressed(findings.get(code, 0)))}</span>',
        ]
        for code in codes
        if code in findings  # the oversight says which rules it runs
    ]
    head = [esc(t(lang, "rule")), esc(t(lang, "count"))]
    return f'<section id="findings">{heading}{table(head, rows)}</section>'


def _ledger(lang: Lang, s: LedgerState) -> str:
    items = [
        ("ledger_size", f'<span id="ledger-size">{esc(s.size)}</span>'),
        ("tree_size", esc(s.tree_size if s.tree_size is not None else "—")),
        ("root", f'<code class="hash">{esc(s.root or "—")}</code>'),
        ("witnesses", f"{esc(s.cosigned_by)} / {esc(s.witnesses)}"),
    ]
    dl = "".join(f"<dt>{esc(t(lang, k))}</dt><dd>{v}</dd>" for k, v in items)
    command = f"bansos verify --url {s.url} --public-key &lt;key&gt; --state ledger-state.json" + (
        f" --witness &lt;vkey&gt;… --quorum {s.witnesses}" if s.witnesses else ""
    )
    return (
        f'<section id="ledger"><h2>{esc(t(lang, "ledger"))}</h2><div class="card"><dl>{dl}</dl>'
        f"<h3>{esc(t(lang, 'checkpoint'))}</h3><p>{esc(t(lang, 'verify_how'))}</p>"
        f'<pre class="command">{command}</pre></div></section>'
    )


# --- the schedule ---------------------------------------------------------------------------
def schedule(lang: Lang, poskos: Sequence[Posko], today: str) -> str:
    intro = (
        f"<h1>{esc(t(lang, 'schedule_title'))}</h1>"
        f"<p class=lead>{esc(t(lang, 'schedule_intro'))} ({esc(today)})</p>"
    )
    if not poskos:
        return layout(
            lang,
            t(lang, "schedule_title"),
            intro + f"<p>{esc(t(lang, 'no_poskos'))}</p>",
            "/jadwal",
        )
    cards = []
    for rw in sorted({p.rw for p in poskos}):
        rows = [[esc(p.on), esc(p.programme), esc(p.place)] for p in poskos if p.rw == rw]
        head = [esc(t(lang, k)) for k in ("day", "programme", "place")]
        cards.append(
            f'<article class="card" id="posko-rw-{esc(rw)}"><h2>RW {esc(rw)}</h2>'
            f"{table(head, rows)}</article>"
        )
    return layout(
        lang,
        t(lang, "schedule_title"),
        intro + f'<div class="cards">{"".join(cards)}</div>',
        "/jadwal",
    )


# --- cek bansos -----------------------------------------------------------------------------
def cek(lang: Lang) -> str:
    body = (
        f"<h1>{esc(t(lang, 'cek_title'))}</h1><p class=lead>{esc(t(lang, 'cek_intro'))}</p>"
        f'<form id="cek-form" class="card" data-lang="{lang}">'
        f'<label for="code">{esc(t(lang, "code"))}</label>'
        '<input id="code" name="code" autocomplete="off" autocapitalize="characters" '
        'spellcheck="false" maxlength="40" placeholder="BT-XXXX-XXXX-XXXX" required>'
        f'<button type="submit">{esc(t(lang, "check"))}</button></form>'
        '<div id="cek-result" aria-live="polite"></div>'
        f'<p class="small">{esc(t(lang, "cek_privacy"))}</p>'
    )
    return layout(lang, t(lang, "cek_title"), body, "/cek", scripts=["/static/cek.js"])
