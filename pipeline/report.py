"""An offline HTML report of a finished run: ``pipeline report RUN_DIR``.

:func:`write_report` writes ``RUN_DIR/report/``:

- ``index.html``: the overview (documents, mentions, entities; the top entities per
  label as bar charts; mentions over time when ``documents.date`` is set; a
  co-occurrence network of the top entities) and a searchable list of the entities with
  the most mentions (names, aliases, roles, affiliations, places, QC flags, and the links
  that formed each entity or that the linker refused);
- ``documents.html``: every document with its date, status and mention count;
- ``docs/<n>.html``: one page per document (``n`` is its row in ``documents``) with the
  mentions highlighted in the text, a colour per label, the entity id and canonical name
  on hover.

``index.html#q=putin`` opens the entity list filtered. The pages load nothing from the
network: the CSS, the one small script (a table filter) and the charts (hand-written
SVG) are inline, and a Content-Security-Policy allows nothing else, not even other
inline scripts. Every value taken from the run, the
document text above all, goes through :func:`html.escape`, so an article containing
``<script>`` shows it as text. Large runs stay usable: no page embeds every document,
the entity list is capped (``max_entities``, said on the page), and a document page
grows with its own text and mentions only.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .outdir import REPORT_DOC_PAGE

if TYPE_CHECKING:
    from .api import Result

__all__ = ["write_report", "LABEL_COLOURS"]

log = logging.getLogger("pipeline")

#: highlight and bar colours per label; other labels get ``OTHER_COLOUR``
LABEL_COLOURS = {"PER": "#a6d8ff", "LOC": "#b5eb9b", "ORG": "#ffc98b", "MISC": "#e2b8ff"}
OTHER_COLOUR = "#d9d9d9"
#: a document page file name, the only files of ``report/docs/`` that a new report removes
#: characters of a metadata or list cell shown before it is cut (the pages stay small)
_CELL = 300

_e = html.escape


def _colour(label: str) -> str:
    return LABEL_COLOURS.get(label, OTHER_COLOUR)


def _cut(value: object, n: int = _CELL) -> str:
    s = "" if value is None or (not isinstance(value, (str, list, tuple)) and pd.isna(value)) else str(value)
    return s if len(s) <= n else s[: n - 1] + "…"


def _as_list(value: object) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist"):
        return list(value.tolist())
    return []


# ------------------------------------------------------------------ page frame

_CSS = """
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fff}
header{background:#2b3a4a;color:#fff;padding:.6em 1.2em}
header a{color:#cfe3ff;margin-right:1em}
main{padding:.8em 1.2em;max-width:1400px}
h1{font-size:1.3em;margin:.2em 0}
h2{font-size:1.1em;margin:1.2em 0 .4em;border-bottom:1px solid #ddd}
.stats{display:flex;gap:1.5em;flex-wrap:wrap}
.stat{background:#f3f5f7;padding:.4em .9em;border-radius:4px}
.stat b{font-size:1.3em;display:block}
.charts{display:flex;flex-wrap:wrap;gap:1em}
.chart{border:1px solid #e3e3e3;border-radius:4px;padding:.3em;box-sizing:content-box}
table.meta th{width:12em}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f5f7;position:sticky;top:0}
td.num{text-align:right}
.lab{display:inline-block;padding:0 .4em;border-radius:3px;font-size:12px}
.muted{color:#777}
.flag{color:#a33}
.text{white-space:pre-wrap;font:16px/1.7 Georgia,serif;max-width:60em;border:1px solid #e3e3e3;padding:.8em 1em;border-radius:4px}
mark{padding:1px 2px;border-radius:3px;color:inherit}
mark::after{content:attr(data-label);font:bold 9px system-ui,sans-serif;color:#444;margin-left:2px}
#filter{font-size:15px;padding:.3em .5em;width:24em}
.links{margin:0;padding-left:1.1em;min-width:22em}
.scroll{overflow-x:auto}
nav.pager a{margin-right:1em}
"""

_FILTER_JS = """
(function(){
  var box=document.getElementById('filter'), sel=document.getElementById('labelfilter');
  var rows=document.querySelectorAll('#entities tbody tr'), shown=document.getElementById('shown');
  function fold(s){return s.normalize('NFD').replace(/[\\u0300-\\u036f]/g,'').toLowerCase();}
  var keys=[]; for(var i=0;i<rows.length;i++){keys.push(fold(rows[i].textContent));}
  function apply(){
    var q=fold(box.value).trim().split(/\\s+/).filter(Boolean), lab=sel.value, n=0;
    for(var i=0;i<rows.length;i++){
      var ok=(!lab||rows[i].getAttribute('data-label')===lab);
      for(var j=0;ok&&j<q.length;j++){ok=keys[i].indexOf(q[j])>=0;}
      rows[i].style.display=ok?'':'none'; if(ok){n++;}
    }
    shown.textContent=n;
  }
  box.addEventListener('input',apply); sel.addEventListener('change',apply);
  if(location.hash.indexOf('#q=')===0){box.value=decodeURIComponent(location.hash.slice(3)); apply();}
})();
""".strip()


def _csp(script: str | None) -> str:
    src = "'none'"
    if script is not None:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
        src = f"'sha256-{digest}'"
    return (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src {src}; "
            "base-uri 'none'; form-action 'none'")


def _page(title: str, body: str, *, root: str = "", script: str | None = None) -> str:
    """A complete page: inline CSS, the optional inline script, a CSP that allows only those."""
    nav = (f'<header><a href="{root}index.html">Overview &amp; entities</a>'
           f'<a href="{root}documents.html">Documents</a></header>')
    js = f"<script>{script}</script>" if script is not None else ""
    return ("<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_csp(script)}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>{nav}<main>\n"
            f"{body}\n</main>{js}</body></html>\n")


def _ordered(labels: Iterable[str]) -> list[str]:
    """Labels in the usual order (PER, LOC, ORG, MISC), any others after them."""
    labels = set(labels)
    return [lab for lab in LABEL_COLOURS if lab in labels] + sorted(labels - set(LABEL_COLOURS))


def _label_badge(label: str) -> str:
    return f'<span class="lab" style="background:{_colour(label)}">{_e(label)}</span>'


def _legend(labels: Iterable[str]) -> str:
    return " ".join(_label_badge(lab) for lab in labels)


# ------------------------------------------------------------------ SVG charts

def _bar_chart(items: list[tuple[str, int]], colour: str, title: str, width: int = 420) -> str:
    """Horizontal bars, one per (name, value), largest first as given."""
    row, pad_left, top = 20, 180, 24
    height = top + row * max(len(items), 1) + 6
    vmax = max((v for _, v in items), default=0) or 1
    scale = (width - pad_left - 50) / vmax
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{_e(title)}">',
             f'<text x="6" y="16" font-size="13" font-weight="bold">{_e(title)}</text>']
    for i, (name, value) in enumerate(items):
        y = top + i * row
        w = max(1.0, value * scale)
        parts.append(f'<text x="{pad_left - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
                     f'{_e(_cut(name, 24))}</text>'
                     f'<rect x="{pad_left}" y="{y + 2}" width="{w:.1f}" height="{row - 5}" fill="{colour}" '
                     f'stroke="#0003"><title>{_e(name)}: {value}</title></rect>'
                     f'<text x="{pad_left + w + 4:.1f}" y="{y + 14}" font-size="11">{value}</text>')
    if not items:
        parts.append(f'<text x="6" y="{top + 14}" font-size="12" fill="#777">none</text>')
    parts.append("</svg>")
    return "".join(parts)


def _time_buckets(documents: pd.DataFrame) -> tuple[str, pd.Series, int]:
    """A bucket per document (day, month or year, whichever suits the dates' spread and
    precision), and how many dated documents are too coarse for the chosen unit."""
    dates = [d if isinstance(d, str) else "" for d in documents["date"]]

    def cut(n: int, pattern: str) -> pd.Series:
        return pd.Series([d[:n] if re.match(pattern, d) else None for d in dates], index=documents.index,
                         dtype=object)

    year, month, day = cut(4, r"\d{4}"), cut(7, r"\d{4}-\d{2}"), cut(10, r"\d{4}-\d{2}-\d{2}")
    n_dated = int(year.notna().sum())
    if month.notna().sum() == 0:
        return "year", year, 0
    months = set(month.dropna())
    if len(months) == 1 and day.notna().sum():
        return "day", day, n_dated - int(day.notna().sum())
    lo, hi = min(months), max(months)
    if (int(hi[:4]) - int(lo[:4])) * 12 + int(hi[5:]) - int(lo[5:]) > 120:  # over ten years: by year
        return "year", year, 0
    return "month", month, n_dated - int(month.notna().sum())


def _full_range(unit: str, present: list[str]) -> list[str]:
    """Every bucket between the first and last one, so gaps show as gaps."""
    lo, hi = min(present), max(present)
    try:
        if unit == "year":
            return [str(y) for y in range(int(lo), int(hi) + 1)]
        if unit == "month":
            return [str(p) for p in pd.period_range(lo, hi, freq="M")]
        return [d.strftime("%Y-%m-%d") for d in pd.date_range(lo, hi, freq="D")]
    except (ValueError, OverflowError):
        return sorted(present)


def _timeline(documents: pd.DataFrame, mentions: pd.DataFrame, labels: list[str]) -> str:
    """Mentions per day/month/year as stacked columns by label; empty when no dates."""
    if "date" not in documents or documents["date"].notna().sum() == 0:
        return ""
    unit, bucket, n_coarse = _time_buckets(documents)
    by_doc = dict(zip(documents["doc_id"], bucket))
    m = mentions.assign(bucket=mentions["doc_id"].map(by_doc)).dropna(subset=["bucket"])
    if m.empty:
        return ""
    counts = m.groupby(["bucket", "label"]).size()
    buckets = _full_range(unit, sorted(m["bucket"].unique()))
    if len(buckets) > 400:  # a wildly spread day range: fall back to the buckets present
        buckets = sorted(m["bucket"].unique())
    totals = m.groupby("bucket").size()
    vmax = int(totals.max()) or 1
    col = max(3, min(40, 900 // max(len(buckets), 1)))
    left, top, plot_h = 44, 14, 170
    width, height = max(320, left + col * len(buckets) + 50), top + plot_h + 70
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="mentions per {unit}">',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 6}" y2="{top + plot_h}" stroke="#999"/>',
             f'<text x="{left - 4}" y="{top + 8}" font-size="11" text-anchor="end">{vmax}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" font-size="11" text-anchor="end">0</text>']
    every = max(1, math.ceil(len(buckets) / 24))  # at most ~24 axis labels
    for i, b in enumerate(buckets):
        x, y = left + i * col, top + plot_h
        for lab in labels:
            n = int(counts.get((b, lab), 0))
            if not n:
                continue
            h = n / vmax * plot_h
            y -= h
            parts.append(f'<rect x="{x + 0.5}" y="{y:.1f}" width="{max(col - 1, 1)}" height="{h:.1f}" '
                         f'fill="{_colour(lab)}" stroke="#0002"><title>{_e(b)} {_e(lab)}: {n}</title></rect>')
        if i % every == 0:
            parts.append(f'<text font-size="10" transform="translate({x + col / 2:.1f},{top + plot_h + 8}) '
                         f'rotate(60)">{_e(b)}</text>')
    parts.append("</svg>")
    note = (f' <span class="muted">({n_coarse} documents dated less precisely than a {unit} are not '
            f"shown)</span>" if n_coarse else "")
    return (f"<h2>Mentions over time</h2><p>Mentions per {unit}, by label: {_legend(labels)}{note}</p>"
            + "".join(parts))


def _network(entities: pd.DataFrame, cooc: pd.DataFrame, n_nodes: int, n_edges: int = 150) -> str:
    """The most mentioned entities that co-occur, on a circle (grouped by label, so the
    picture is the same every time); line width grows with the documents they share."""
    if cooc.empty or entities.empty:
        return ""
    linked = set(cooc["entity_a"]) | set(cooc["entity_b"])
    top = entities[entities["entity_id"].isin(linked)].head(n_nodes)
    if len(top) < 2:
        return ""
    ids = set(top["entity_id"])
    edges = cooc[cooc["entity_a"].isin(ids) & cooc["entity_b"].isin(ids)]
    edges = edges.sort_values(["n_docs", "n_sentences", "entity_a", "entity_b"],
                              ascending=[False, False, True, True]).head(n_edges)
    nodes = top.sort_values(["label", "n_mentions", "entity_id"], ascending=[True, False, True])
    size, r = 760, 250
    cx = cy = size / 2
    pos = {}
    for i, eid in enumerate(nodes["entity_id"]):
        a = 2 * math.pi * i / len(nodes) - math.pi / 2
        pos[eid] = (cx + r * math.cos(a), cy + r * math.sin(a), a)
    wmax = int(edges["n_docs"].max()) if len(edges) else 1
    mmax = int(nodes["n_mentions"].max()) or 1
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
             'role="img" aria-label="co-occurrence network">']
    for e in edges.itertuples(index=False):
        (x1, y1, _), (x2, y2, _) = pos[e.entity_a], pos[e.entity_b]
        w = 0.5 + 5 * e.n_docs / wmax
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#4a6a8a" '
                     f'stroke-opacity="0.45" stroke-width="{w:.2f}"><title>{_e(e.entity_a)} – {_e(e.entity_b)}: '
                     f'{e.n_docs} documents, {e.n_sentences} sentences</title></line>')
    for e in nodes.itertuples(index=False):
        x, y, a = pos[e.entity_id]
        rad = 4 + 10 * math.sqrt(e.n_mentions / mmax)
        lx, ly = x + (rad + 4) * math.cos(a), y + (rad + 4) * math.sin(a)
        anchor = "start" if math.cos(a) >= 0 else "end"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{rad:.1f}" fill="{_colour(e.label)}" stroke="#333">'
                     f"<title>{_e(e.entity_id)}: {e.n_mentions} mentions</title></circle>"
                     f'<text x="{lx:.1f}" y="{ly + 4:.1f}" font-size="11" text-anchor="{anchor}">'
                     f"{_e(_cut(e.canonical_name, 24))}</text>")
    parts.append("</svg>")
    return (f"<h2>Co-occurrence network</h2><p>The {len(nodes)} most mentioned entities that share a "
            f"document with another; a line per pair (the {len(edges)} strongest), wider for more shared "
            f"documents. {_legend(_ordered(set(nodes['label'])))}</p>" + "".join(parts))


# ------------------------------------------------------------------ entity list

def _links_by_entity(links: pd.DataFrame, keep: set[str], per_entity: int) -> dict[str, list[str]]:
    """Rendered lines per entity: the merges that formed it, then the merges refused."""
    out: dict[str, list[str]] = defaultdict(list)
    more: Counter = Counter()
    if links is None or links.empty:
        return out
    sub = links[links["entity_a"].isin(keep) | links["entity_b"].isin(keep)]
    sub = sub.sort_values(["decision", "n_evidence"], ascending=[True, False])  # merged before refused
    for lk in sub.itertuples(index=False):
        score = "" if lk.score is None or pd.isna(lk.score) else f" {lk.score:.2f}"
        if lk.decision == "merged":
            line = (f"{_e(_cut(lk.name_a, 80))} ⟷ {_e(_cut(lk.name_b, 80))} "
                    f'<span class="muted">({_e(lk.rule)}{score}, {int(lk.n_evidence)} mentions)</span>')
        else:
            line = (f'<span class="flag">kept apart:</span> {_e(_cut(lk.name_a, 80))} ⟷ {_e(_cut(lk.name_b, 80))} '
                    f'<span class="muted">({_e(lk.rule)}{score}; {_e(_cut(lk.reason, 80))})</span>')
        for eid in {lk.entity_a, lk.entity_b} & keep:
            if len(out[eid]) < per_entity:
                out[eid].append(line)
            else:
                more[eid] += 1
    for eid, n in more.items():
        out[eid].append(f'<span class="muted">+{n} more (pipeline explain)</span>')
    return out


def _place(e) -> str:
    bits = []
    kind = " ".join(_e(v) for v in (getattr(e, "place_type", None), getattr(e, "country_code", None))
                    if isinstance(v, str))
    if kind:
        bits.append(kind)
    lat, lon = getattr(e, "latitude", None), getattr(e, "longitude", None)
    if lat is not None and lon is not None and pd.notna(lat) and pd.notna(lon):
        bits.append(f"{float(lat):.4f},&nbsp;{float(lon):.4f}")
    gid = getattr(e, "geonames_id", None)
    if gid is not None and pd.notna(gid):
        bits.append(f"GeoNames&nbsp;{int(gid)}")
    return "<br>".join(bits)


def _list_cell(values: list, n: int = 15) -> str:
    vals = [_e(_cut(v, 80)) for v in values[:n]]
    extra = f' <span class="muted">+{len(values) - n}</span>' if len(values) > n else ""
    return ", ".join(vals) + extra


def _quotes_by_entity(quotes: pd.DataFrame | None, keep: set[str], per_entity: int = 3) -> dict[str, list[str]]:
    """What each entity was quoted saying: its number of quotes and the first few."""
    out: dict[str, list[str]] = {}
    if quotes is None or quotes.empty or "speaker_entity_id" not in quotes:
        return out
    sub = quotes[quotes["speaker_entity_id"].isin(keep)]
    for eid, g in sub.groupby("speaker_entity_id", sort=False):
        lines = [f"„{_e(_cut(' '.join(str(t).split()), 140))}“ <span class=\"muted\">({_e(q_type)})</span>"
                 for t, q_type in zip(g["text"].head(per_entity), g["type"].head(per_entity))]
        if len(g) > per_entity:
            lines.append(f'<span class="muted">+{len(g) - per_entity} more quotes (quotes table)</span>')
        out[eid] = lines
    return out


def _entity_table(entities: pd.DataFrame, links: pd.DataFrame, first_docs: dict[str, list[int]],
                  anchors: dict[str, str], doc_names: list[str], max_entities: int,
                  quotes: pd.DataFrame | None = None) -> str:
    shown = entities.head(max_entities)
    link_lines = _links_by_entity(links, set(shown["entity_id"]), per_entity=8)
    quote_lines = _quotes_by_entity(quotes, set(shown["entity_id"]))
    labels = _ordered(entities["label"])
    cap = (f"the {len(shown):,} entities with the most mentions, of {len(entities):,} (the rest are in "
           f"entities.csv / entities.parquet)" if len(entities) > len(shown) else f"all {len(shown):,} entities")
    opts = "".join(f'<option value="{_e(lab)}">{_e(lab)}</option>' for lab in labels)
    rows = []
    for e in shown.itertuples(index=False):
        docs = first_docs.get(e.entity_id, [])
        doc_links = ", ".join(f'<a href="docs/{n}.html">{_e(_cut(doc_names[n], 40))}</a>' for n in docs)
        if e.n_docs > len(docs):
            doc_links += f' <span class="muted">+{e.n_docs - len(docs)}</span>'
        flags = _as_list(e.qc_flags)
        lines = link_lines.get(e.entity_id, [])
        rows.append(
            f'<tr id="{anchors[e.entity_id]}" data-label="{_e(e.label)}"><td><b>{_e(_cut(e.canonical_name, 120))}</b>'
            f'<br><span class="muted">{_e(_cut(e.entity_id, 120))}</span></td>'
            f"<td>{_label_badge(e.label)}</td><td>{_list_cell(_as_list(e.aliases))}</td>"
            f'<td class="num">{int(e.n_mentions)}</td><td class="num">{int(e.n_docs)}</td>'
            f"<td>{_list_cell(_as_list(getattr(e, 'roles', None)), 5)}</td>"
            f"<td>{_list_cell(_as_list(getattr(e, 'affiliations', None)), 5)}</td>"
            f"<td>{_place(e)}</td>"
            f'<td class="flag">{_list_cell(flags)}</td>'
            f'<td>{"<ul class=links><li>" + "<li>".join(lines) + "</ul>" if lines else ""}</td>'
            f'<td>{"<ul class=links><li>" + "<li>".join(quote_lines[e.entity_id]) + "</ul>" if e.entity_id in quote_lines else ""}</td>'
            f"<td>{doc_links}</td></tr>")
    return (f'<h2 id="entity-list">Entities</h2><p>Showing {cap}, most mentions first. '
            f'<input id="filter" type="search" placeholder="filter: name, alias, role, id…" '
            f'aria-label="filter entities"> <select id="labelfilter" aria-label="label"><option value="">'
            f'all labels</option>{opts}</select> <span id="shown">{len(shown)}</span> shown.</p>'
            '<div class="scroll"><table id="entities"><thead><tr><th>Entity</th><th>Label</th><th>Aliases</th>'
            "<th>Mentions</th>"
            "<th>Docs</th><th>Roles</th><th>Affiliations</th><th>Place</th><th>QC flags</th>"
            "<th>Links (why these names are one entity)</th><th>Quoted saying</th><th>Documents</th></tr></thead><tbody>\n"
            + "\n".join(rows) + "\n</tbody></table></div>")


# ------------------------------------------------------------------ document pages

def highlight(text: str, spans: Iterable[tuple[int, int, str, str]]) -> tuple[str, int]:
    """``text`` as escaped HTML with each ``(start, end, label, title)`` span in a
    ``<mark>`` of its label's colour, the title on hover. A span that overlaps an earlier
    one (nested or crossing) or lies outside the text is skipped; returns the HTML and
    the number of skipped spans.

    >>> highlight("a <b> Kim", [(6, 9, "PER", "PER:kim")])
    ('a &lt;b&gt; <mark data-label="PER" style="background:#a6d8ff" title="PER:kim">Kim</mark>', 0)
    """
    out, pos, skipped = [], 0, 0
    for start, end, label, title in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < pos or start >= end or end > len(text) or start < 0:
            skipped += 1
            continue
        out.append(_e(text[pos:start], quote=False))
        out.append(f'<mark data-label="{_e(label)}" style="background:{_colour(label)}" title="{_e(title)}">'
                   f"{_e(text[start:end], quote=False)}</mark>")
        pos = end
    out.append(_e(text[pos:], quote=False))
    return "".join(out), skipped


def _doc_page(n: int, n_docs: int, doc: dict, mentions: pd.DataFrame, names: dict[str, str],
              anchors: dict[str, str]) -> str:
    text = doc.get("text") or ""
    spans = []
    for m in mentions.itertuples(index=False):
        eid = m.entity_id if isinstance(m.entity_id, str) else ""
        title = f"{eid} · {names.get(eid, m.text)} ({m.label})" if eid else f"{m.text} ({m.label}, unlinked)"
        spans.append((int(m.start_char), int(m.end_char), m.label, title))
    body_text, skipped = highlight(text, spans)
    pager = ['<nav class="pager">']
    if n > 0:
        pager.append(f'<a href="{n - 1}.html">← previous</a>')
    if n + 1 < n_docs:
        pager.append(f'<a href="{n + 1}.html">next →</a>')
    pager.append(f'<span class="muted">document {n + 1:,} of {n_docs:,}</span></nav>')
    meta = "".join(f"<tr><th>{_e(str(k))}</th><td>{_e(_cut(v))}</td></tr>" for k, v in doc.items()
                   if k != "text" and v is not None and not (not isinstance(v, (str, list)) and pd.isna(v)))
    labels = _ordered(set(mentions["label"]))
    skip_note = (f' <span class="muted">({skipped} overlapping mentions not highlighted)</span>'
                 if skipped else "")
    ents = mentions.assign(eid=mentions["entity_id"].fillna("")).groupby(["eid", "label"]).size() \
        .sort_values(ascending=False)
    ent_rows = []
    for (eid, label), count in ents.items():
        name = _e(_cut(names.get(eid, eid) or "(unlinked)", 120))
        if eid in anchors:
            name = f'<a href="../index.html#{anchors[eid]}">{name}</a>'
        ent_rows.append(f'<tr><td>{name}</td><td>{_label_badge(label)}</td>'
                        f'<td class="muted">{_e(_cut(eid, 120))}</td><td class="num">{count}</td></tr>')
    sub = " · ".join(_e(_cut(doc.get(k), 120)) for k in ("doc_id", "date", "source") if isinstance(doc.get(k), str))
    body = ("".join(pager) + f"<h1>{_e(_cut(doc.get('title') or doc.get('doc_id'), 200))}</h1>"
            f'<p><span class="muted">{sub}</span><br>{len(mentions)} mentions: {_legend(labels)}{skip_note}</p>'
            f'<div class="text">{body_text}</div>'
            "<h2>Entities in this document</h2><table><thead><tr><th>Entity</th><th>Label</th><th>Id</th>"
            f"<th>Mentions</th></tr></thead><tbody>{''.join(ent_rows)}</tbody></table>"
            f'<h2>Document</h2><table class="meta">{meta}</table>')
    return _page(_cut(doc.get("doc_id"), 100), body, root="../")


# ------------------------------------------------------------------ writing

def _write(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it into place, so a reader never sees half a page."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_report(run_dir: str | Path, result: Result | None = None, *, max_entities: int = 2000,
                 top_per_label: int = 10, network_size: int = 30) -> Path:
    """Write the HTML report of the run in ``run_dir`` into ``run_dir/report/`` and return
    the path of its ``index.html`` (see the module docstring for what the pages hold).

    ``result`` is the run's :class:`~pipeline.api.Result` when already loaded (read with
    :func:`pipeline.load` otherwise). Writing again replaces the pages; document pages of
    an earlier, larger run are removed, other files in ``report/`` are left alone.
    OSErrors become :class:`~pipeline.errors.PipelineError` with the CLI's exit codes.
    """
    from .outdir import os_error

    run_dir = Path(run_dir)
    if result is None:
        from .api import load

        result = load(run_dir)
    out = run_dir / "report"
    try:
        (out / "docs").mkdir(parents=True, exist_ok=True)
        return _write_pages(out, result, max_entities, top_per_label, network_size)
    except OSError as exc:
        raise os_error(exc, f"cannot write the report into {out}") from None


def _write_pages(out: Path, result: Result, max_entities: int, top_per_label: int, network_size: int) -> Path:
    docs = result.documents.reset_index(drop=True)
    mentions = result.mentions
    entities = result.entities.sort_values(["n_mentions", "n_docs", "entity_id"],
                                           ascending=[False, False, True]).reset_index(drop=True)
    names = dict(zip(entities["entity_id"], entities["canonical_name"]))
    anchors = {eid: f"e{i}" for i, eid in enumerate(entities["entity_id"].head(max_entities))}
    doc_row = {d: i for i, d in enumerate(docs["doc_id"])}
    doc_names = [str(t) if isinstance(t, str) and t else str(d)
                 for d, t in zip(docs["doc_id"], docs["title"] if "title" in docs else docs["doc_id"])]
    labels = _ordered(set(mentions["label"]) | set(entities["label"]))

    # document pages: one per row, each built from its own mentions only
    by_doc = {d: g for d, g in mentions.groupby("doc_id", sort=False)} if len(mentions) else {}
    empty = mentions.iloc[0:0]
    records = docs.to_dict("records")
    for n, doc in enumerate(records):
        _write(out / "docs" / f"{n}.html",
               _doc_page(n, len(records), doc, by_doc.get(doc["doc_id"], empty), names, anchors))
    for stale in (out / "docs").iterdir():
        if REPORT_DOC_PAGE.match(stale.name) and int(stale.name.split(".")[0]) >= len(records):
            stale.unlink()

    # the first few documents of each listed entity, by their mentions there
    first_docs: dict[str, list[int]] = {}
    if len(mentions):
        listed = mentions[mentions["entity_id"].isin(anchors)]
        counts = listed.groupby(["entity_id", "doc_id"]).size().reset_index(name="n") \
            .sort_values(["entity_id", "n", "doc_id"], ascending=[True, False, True])
        for eid, g in counts.groupby("entity_id", sort=False):
            first_docs[eid] = [doc_row[d] for d in g["doc_id"].head(5) if d in doc_row]

    # documents list: metadata and counts, never the text
    has_date = "date" in docs and docs["date"].notna().any()
    drows = []
    for n, doc in enumerate(records):
        status = doc.get("status") or ""
        err = f' <span class="flag">{_e(_cut(doc.get("error"), 120))}</span>' if status == "error" else ""
        drows.append(f'<tr><td><a href="docs/{n}.html">{_e(_cut(doc_names[n], 120))}</a></td>'
                     + (f"<td>{_e(_cut(doc.get('date'), 40))}</td>" if has_date else "")
                     + f'<td class="num">{int(doc.get("n_chars") or 0):,}</td>'
                     f'<td class="num">{int(doc.get("n_mentions") or 0):,}</td><td>{_e(status)}{err}</td></tr>')
    _write(out / "documents.html", _page("Documents", (
        f"<h1>Documents ({len(records):,})</h1><table><thead><tr><th>Document</th>"
        + ("<th>Date</th>" if has_date else "")
        + "<th>Characters</th><th>Mentions</th><th>Status</th></tr></thead><tbody>\n"
        + "\n".join(drows) + "\n</tbody></table>")))

    # the overview and the entity list
    n_failed = int((docs["status"] == "error").sum()) if len(docs) else 0
    model = result.manifest.get("model", {}) if isinstance(result.manifest, dict) else {}
    stats = [("documents", f"{len(docs):,}"), ("failed", f"{n_failed:,}"), ("mentions", f"{len(mentions):,}"),
             ("entities", f"{len(entities):,}"), ("co-occurring pairs", f"{len(result.cooccurrences):,}")]
    overview = ('<div class="stats">' + "".join(f'<div class="stat"><b>{v}</b>{_e(k)}</div>' for k, v in stats)
                + "</div>")
    if isinstance(model, dict) and model.get("name"):
        overview += f'<p class="muted">Model: {_e(str(model.get("name")))} {_e(str(model.get("version", "")))}</p>'
    charts = []
    for lab in labels:
        top = entities[entities["label"] == lab].head(top_per_label)
        charts.append(_bar_chart(list(zip(top["canonical_name"], top["n_mentions"].astype(int))),
                                 _colour(lab), f"Top {lab} entities (mentions)"))
    body = (f"<h1>Run report</h1>{overview}<h2>Top entities per label</h2><div class=\"charts\">"
            + "".join(charts) + "</div>"
            + _timeline(docs, mentions, labels)
            + _network(entities, result.cooccurrences, network_size)
            + _entity_table(entities, result.links, first_docs, anchors, doc_names, max_entities,
                            getattr(result, "quotes", None)))
    index = out / "index.html"
    _write(index, _page("Run report", body, script=_FILTER_JS))
    log.info("report: %d document pages, %d entities listed, in %s", len(records), len(anchors), out)
    return index
