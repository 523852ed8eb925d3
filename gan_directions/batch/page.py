"""The sweep's ``index.html``: runs compared, grouped by any setting, mean ± std over seeds.

Self-contained like a run report (inline CSS, no scripts); it links each run's own report and
log by relative paths, so the sweep folder can be moved or served as it is.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import numpy as np

from gan_directions.batch.execute import log_path
from gan_directions.fileio import atomic_write_text
from gan_directions.render.report import REPORT_CSS
from gan_directions.runs.layout import REPORT_HTML, SWEEP_RESULTS_CSV, SWEEP_RESULTS_JSON

SEED_KEYS = ("seed",)


def write_sweep_page(sweep_dir: Path, rows: list[dict]) -> Path:
    """Write ``sweep_dir/index.html`` for the result ``rows``; return its path."""
    path = Path(sweep_dir) / REPORT_HTML
    atomic_write_text(path, sweep_page(Path(sweep_dir), rows))
    return path


def varying_settings(rows: list[dict]) -> list[str]:
    """Settings (and the entry label) whose values differ between runs."""
    keys: list[str] = []
    for row in rows:
        keys += [key for key in _settings(row) if key not in keys]
    return [key for key in keys
            if len({_text(_settings(row).get(key)) for row in rows}) > 1]


def group_stats(rows: list[dict], keys: list[str], metrics: list[str]) -> list[dict]:
    """Rows grouped by the values of ``keys``: ``{"values", "n", metric: (mean, std, n)}``."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(_text(_settings(row).get(key)) for key in keys)].append(row)
    out = []
    for values, members in groups.items():
        entry = {"values": values, "n": len(members)}
        for metric in metrics:
            found = [m["metrics"][metric] for m in members if metric in m["metrics"]]
            if found:
                data = np.asarray(found, dtype=np.float64)
                std = float(data.std(ddof=1)) if len(data) > 1 else 0.0
                entry[metric] = (float(data.mean()), std, len(data))
        out.append(entry)
    return out


def sweep_page(sweep_dir: Path, rows: list[dict]) -> str:
    metrics: list[str] = []
    for row in rows:
        metrics += [key for key in row["metrics"] if key not in metrics]
    varying = varying_settings(rows)
    config_keys = [key for key in varying if key not in SEED_KEYS]
    counts = defaultdict(int)
    for row in rows:
        counts[row["status"]] += 1
    facts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    sections = []
    if metrics and config_keys:
        sections.append(_group_section(
            "configurations", "Configurations (mean ± std over seeds)",
            group_stats(rows, config_keys, metrics), config_keys, metrics))
    for key in varying:
        if key in SEED_KEYS or [key] == config_keys:
            continue
        if metrics:
            sections.append(_group_section(
                f"by-{key}", f"By {key}", group_stats(rows, [key], metrics), [key], metrics))
    sections.append(_runs_section(sweep_dir, rows, varying, metrics))
    nav = "".join(f'<a href="#{_esc(anchor)}">{_esc(title)}</a>'
                  for anchor, title in _anchors(sections))
    downloads = (f'<a href="{SWEEP_RESULTS_CSV}">{SWEEP_RESULTS_CSV}</a> · '
                 f'<a href="{SWEEP_RESULTS_JSON}">{SWEEP_RESULTS_JSON}</a>')
    title = _esc(sweep_dir.resolve().name)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} · gandir sweep</title>\n<style>{REPORT_CSS}</style>\n</head>\n"
        f"<body>\n<header>\n<h1>{title}</h1>\n<p>{len(rows)} runs: {_esc(facts)} · "
        f"{downloads}</p>\n<nav>{nav}</nav>\n</header>\n<main>\n"
        + "\n".join(html_ for _, html_ in sections)
        + "\n</main>\n<footer>gandir batch</footer>\n</body>\n</html>\n"
    )


def _group_section(anchor: str, title: str, stats: list[dict], keys: list[str],
                   metrics: list[str]) -> tuple[str, str]:
    head = "".join(f"<th>{_esc(k)}</th>" for k in keys) + "<th>runs</th>"
    head += "".join(f"<th>{_esc(m)}</th>" for m in metrics)
    body = []
    for entry in stats:
        cells = "".join(f"<td>{_esc(v)}</td>" for v in entry["values"])
        cells += f'<td class="num">{entry["n"]}</td>'
        for metric in metrics:
            if metric in entry:
                mean, std, n = entry[metric]
                text = f"{mean:.4g} ± {std:.2g}" if n > 1 else f"{mean:.4g}"
                cells += f'<td class="num">{_esc(text)}</td>'
            else:
                cells += "<td>-</td>"
        body.append(f"<tr>{cells}</tr>")
    table = f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>'
    return title, f'<section id="{_esc(anchor)}"><h2>{_esc(title)}</h2>{table}</section>'


def _runs_section(sweep_dir: Path, rows: list[dict], varying: list[str],
                  metrics: list[str]) -> tuple[str, str]:
    head = "<th>run</th><th>status</th>" + "".join(f"<th>{_esc(k)}</th>" for k in varying)
    head += "".join(f"<th>{_esc(m)}</th>" for m in metrics) + "<th>seconds</th><th>log</th>"
    body = []
    for row in rows:
        name = _esc(row["run"])
        link = f'<a href="{_href(row["report"])}">{name}</a>' if row["report"] else name
        status = _esc(row["status"])
        if row["error"]:
            status += f'<br><span class="facts">{_esc(row["error"])}</span>'
        cells = f"<td>{link}</td><td>{status}</td>"
        cells += "".join(f"<td>{_esc(_text(_settings(row).get(k)))}</td>" for k in varying)
        for metric in metrics:
            value = row["metrics"].get(metric)
            cells += f'<td class="num">{"-" if value is None else f"{value:.4g}"}</td>'
        cells += f'<td class="num">{_esc(row["seconds"] if row["seconds"] is not None else "-")}'
        log = log_path(sweep_dir, row["run"])
        rel = log.relative_to(sweep_dir).as_posix()
        log_link = f'<a href="{_href(rel)}">log</a>' if log.is_file() else "-"
        cells += f"</td><td>{log_link}</td>"
        body.append(f"<tr>{cells}</tr>")
    table = f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>'
    return "Runs", f'<section id="runs"><h2>Runs</h2>{table}</section>'


def _anchors(sections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for title, text in sections:
        anchor = text.split('id="', 1)[1].split('"', 1)[0]
        out.append((html.unescape(anchor), title))
    return out


def _settings(row: dict) -> dict:
    return {"entry": row["label"], **row["settings"]}


def _text(value) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def _href(rel: str) -> str:
    return quote(rel, safe="/")


def _esc(value) -> str:
    return html.escape(str(value), quote=True)
