"""``index.html`` for a run folder: traversals, scores, loss curves and settings on one page.

The page is self-contained (inline CSS, no scripts, no network) and links only files inside the
run folder by relative paths, so the folder can be moved, zipped or served as it is. It picks up
whatever the folder holds and skips what is missing, reading it only through ``runs``:

- ``render.json`` manifests (in the folder or a sub-folder) with their grids, GIFs and MP4s;
- the run record (settings, versions, recovery scores) and the directions (names, scales);
- the loss history (``runs.folder.read_loss_table``), drawn into ``losses.png``;
- the scores and score plots (files named like ``*similarity*``, ``*rlt*``, ``*score*``);
- any other image or video, in a gallery, and every top-level file as a download link.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
from pathlib import Path
from urllib.parse import quote

import numpy as np
from PIL import Image

from gan_directions.errors import GandirError
from gan_directions.fileio import atomic_write_text
from gan_directions.render.heatmap import heatmap_table
from gan_directions.render.losses_plot import plot_losses
from gan_directions.render.names import direction_labels
from gan_directions.runs.folder import (
    read_directions,
    read_json_object,
    read_loss_table,
    read_scores,
    render_manifest_paths,
)
from gan_directions.runs.layout import LOSSES_PNG, RENDER_MANIFEST, REPORT_HTML
from gan_directions.runs.record import read_record

REPORT = REPORT_HTML
IMAGE_SUFFIXES = (".png", ".gif", ".jpg", ".jpeg", ".webp", ".svg")
VIDEO_SUFFIXES = (".mp4", ".webm")
SCORE_PLOT_WORDS = ("similarity", "rlt", "score")
MAX_JSON_CHARS = 1500
# recovery entries shown as the effect heatmap rather than as rows of the key-value table
MATRIX_KEYS = ("effects", "factor_names", "direction_names")
MAX_MEDIA_PER_FOLDER = 12
CARD_WIDTH = 300  # the narrowest direction card, in CSS pixels


def write_report(run_dir: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write ``run_dir/index.html`` from whatever the run folder holds; return its path.

    Unreadable parts (a corrupt ``scores.json``, say) are noted on the page instead of
    failing the report.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise GandirError(f"run folder not found: {run_dir}")
    page = _ReportPage(run_dir, title or run_dir.resolve().name)
    atomic_write_text(run_dir / REPORT, page.build())
    return run_dir / REPORT


class _ReportPage:
    """Collects what a run folder holds and renders it as HTML sections."""

    def __init__(self, run_dir: Path, title: str) -> None:
        self.root = run_dir
        self.title = title
        self.notes: list[str] = []
        self.shown: set[str] = {REPORT}
        self.run = self._read(read_record, self.root, required=False)
        self.directions = self._read(read_directions, self.root)
        self.renders = self._read_manifests()
        self.scores = self._read(read_scores, self.root)
        self.k = self.directions.k if self.directions else self._rendered_count()
        self.score_summary, self.score_columns = _score_columns(self.scores or {}, self.k)

    # ---- reading -------------------------------------------------------------------------
    def _read(self, reader, *args, **kwargs):
        """``reader(*args)``, or None with a note on the page when it cannot be read."""
        try:
            return reader(*args, **kwargs)
        except GandirError as error:
            self.notes.append(str(error))
            return None

    def _read_manifests(self) -> list[tuple[str, dict]]:
        found = []
        for folder, path in render_manifest_paths(self.root):
            manifest = self._read(read_json_object, path)
            if manifest is not None:
                found.append((folder, manifest))
                self.shown.add(f"{folder}/{RENDER_MANIFEST}" if folder else RENDER_MANIFEST)
        return found

    def _file(self, folder: str, name) -> str | None:
        """The run-relative path of ``folder/name`` if that file exists (None otherwise)."""
        if not isinstance(name, str) or not name or ".." in Path(name).parts:
            return None
        rel = f"{folder}/{name}" if folder else name
        return rel if (self.root / rel).is_file() else None

    # ---- HTML pieces ---------------------------------------------------------------------
    def _img(self, rel: str, alt: str, lazy: bool = True, fill: int | None = None) -> str:
        """An image linking to itself; ``fill`` doubles images narrower than half that width
        (pixel-exact, so small models' traversals stay crisp)."""
        self.shown.add(rel)
        attributes = ' loading="lazy"' if lazy else ""
        try:
            with Image.open(self.root / rel) as image:
                width, height = image.size
        except (OSError, ValueError):
            width = height = None
        if width:
            zoom = 2 if fill is not None and 2 * width <= fill else 1
            attributes += f' width="{zoom * width}" height="{zoom * height}"'
            if zoom > 1:
                attributes += ' class="zoom"'
        src = _href(rel)
        return f'<a href="{src}"><img src="{src}" alt="{_esc(alt)}"{attributes}></a>'

    def _link(self, rel: str, text: str) -> str:
        self.shown.add(rel)
        return f'<a href="{_href(rel)}">{_esc(text)}</a>'

    def build(self) -> str:
        body = [
            self._section_traversals(),
            self._section_directions(),
            self._section_scores(),
            self._section_training(),
            self._section_settings(),
            self._section_gallery(),
            self._section_files(),
        ]
        sections = [s for s in body if s]
        if not sections:
            sections = ["<section><p>This folder holds no run files yet.</p></section>"]
        nav = " ".join(
            f'<a href="#{anchor}">{label}</a>'
            for anchor, label in self._nav
            if any(f'id="{anchor}"' in s for s in sections)
        )
        notes = "".join(f'<p class="note">{_esc(n)}</p>' for n in self.notes)
        created = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return _PAGE.format(
            title=_esc(self.title),
            subtitle=self._subtitle(),
            nav=nav,
            notes=notes,
            body="\n".join(sections),
            footer=_esc(f"Written by gandir {_gandir_version()} on {created}."),
            css=REPORT_CSS,
        )

    _nav = (
        ("traversals", "Traversals"),
        ("directions", "Directions"),
        ("scores", "Scores"),
        ("training", "Training"),
        ("settings", "Settings"),
        ("figures", "Figures"),
        ("files", "Files"),
    )

    def _subtitle(self) -> str:
        run = self.run or {}
        parts = []
        model = (run.get("model") or {}).get("spec")
        for label, value in (("method", run.get("method")), ("model", model),
                             ("space", run.get("space"))):
            if value is not None:
                parts.append(f"{label} <b>{_esc(value)}</b>")
        if run.get("layers") not in (None, [], ""):
            parts.append(f"layers <b>{_esc(_layers_text(run['layers']))}</b>")
        k = run.get("k", self.directions.k if self.directions else None)
        if k is not None:
            parts.append(f"<b>{_esc(k)}</b> directions")
        if run.get("created"):
            parts.append(_esc(run["created"]))
        return " · ".join(parts)

    def _section_traversals(self) -> str:
        blocks = []
        for folder, manifest in self.renders:
            blocks.append(self._render_block(folder, manifest, several=len(self.renders) > 1))
        if not blocks:
            return ""
        return '<section id="traversals"><h2>Traversals</h2>' + "".join(blocks) + "</section>"

    def _render_block(self, folder: str, manifest: dict, several: bool) -> str:
        settings = manifest.get("settings") if isinstance(manifest.get("settings"), dict) else {}
        seeds = manifest.get("seeds") or []
        facts = []
        if seeds:
            facts.append(f"seeds {_esc(_seed_text(seeds))}")
        if settings.get("steps") is not None and settings.get("max_shift") is not None:
            facts.append(
                f"{_esc(settings['steps'])} steps over ±{_esc(_num(settings['max_shift']))} std"
            )
        for key, label in (("truncation_psi", "ψ"), ("space", "space"), ("class_index", "class")):
            if settings.get(key) is not None:
                facts.append(f"{label} {_esc(_num(settings[key]))}")
        if settings.get("layers"):
            facts.append(f"layers {_esc(_layers_text(settings['layers']))}")
        out = []
        if several:
            out.append(f"<h3>{_esc(folder or '.')}</h3>")
        out.append(f'<p class="facts">{" · ".join(facts)}</p>')
        top = []
        overview = self._file(folder, manifest.get("overview"))
        if overview:
            top.append(
                f"<figure>{self._img(overview, 'overview grid', lazy=False)}"
                "<figcaption>One row per direction (first seed).</figcaption></figure>"
            )
        combined = manifest.get("combined") if isinstance(manifest.get("combined"), dict) else {}
        combined_gif = self._file(folder, combined.get("gif"))
        combined_mp4 = self._file(folder, combined.get("mp4"))
        if combined_gif or combined_mp4:
            media = (
                self._img(combined_gif, "all directions", lazy=False, fill=400)
                if combined_gif
                else ""
            )
            link = f" ({self._link(combined_mp4, 'MP4')})" if combined_mp4 else ""
            count, rendered = manifest.get("combined_count"), len(manifest.get("directions") or [])
            what = "All directions" if count in (None, rendered) else f"The first {count}"
            top.append(f"<figure>{media}<figcaption>{what}{link}.</figcaption></figure>")
        if top:
            out.append('<div class="row">' + "".join(top) + "</div>")
        cards = [self._card(folder, entry) for entry in manifest.get("directions") or []]
        cards = [c for c in cards if c]
        if cards:
            out.append('<div class="cards">' + "".join(cards) + "</div>")
        return "".join(out)

    def _card(self, folder: str, entry) -> str:
        if not isinstance(entry, dict):
            return ""
        label = str(entry.get("label", entry.get("index", "")))
        anchor = _anchor(folder, entry.get("index"))
        gif, grid, mp4 = (self._file(folder, entry.get(k)) for k in ("gif", "grid", "mp4"))
        if not (gif or grid or mp4):
            return ""
        parts = [f'<div class="card" id="{anchor}"><h3>{_esc(label)}</h3>']
        if gif:
            parts.append(self._img(gif, f"direction {label}", fill=CARD_WIDTH))
        if grid and gif:
            parts.append(
                f"<details><summary>grid</summary>{self._img(grid, f'grid {label}')}</details>"
            )
        elif grid:
            parts.append(self._img(grid, f"grid {label}"))
        links = [self._link(r, t) for r, t in ((gif, "GIF"), (grid, "PNG"), (mp4, "MP4")) if r]
        parts.append(f'<p class="links">{" · ".join(links)}</p></div>')
        return "".join(parts)

    def _section_directions(self) -> str:
        k, columns = self.k, self.score_columns
        if not k:
            return ""
        stored = self.directions.names if self.directions else []
        labels = direction_labels(list(range(k)), stored)
        rendered = self._rendered_indices()
        head = ["direction"]
        if self.directions is not None:
            head.append("scale (std)")
        head += list(columns)
        edit_columns = self._edit_size_columns(k)
        head += list(edit_columns)
        rows = []
        for i in range(k):
            label = _esc(labels[i])
            if i in rendered:
                label = f'<a href="#{_anchor(rendered[i], i)}">{label}</a>'
            cells = [f"<td>{label}</td>"]
            if self.directions is not None:
                cells.append(f'<td class="num">{_num(self.directions.scales[i])}</td>')
            cells += [
                f'<td class="num">{_esc(_num(values[i]))}</td>' for values in columns.values()
            ]
            cells += [f'<td class="num">{_esc(text[i])}</td>' for text in edit_columns.values()]
            rows.append("<tr>" + "".join(cells) + "</tr>")
        header = "".join(f"<th>{_esc(h)}</th>" for h in head)
        space = ""
        if self.directions is not None:
            space = f"<p>space <b>{_esc(self.directions.space)}</b>"
            if self.directions.layers is not None:
                space += f", layers <b>{_esc(_layers_text(self.directions.layers))}</b>"
            space += "</p>"
        return (
            f'<section id="directions"><h2>Directions</h2>{space}'
            f'<div class="scroll"><table><tr>{header}</tr>{"".join(rows)}</table></div></section>'
        )

    def _edit_size_columns(self, k: int) -> dict[str, list[str]]:
        """run.json's per-direction image change at ±alpha std and RTD per unit of change,
        each as "start → end" (empty when the run has no such record)."""
        edit = (self.run or {}).get("edit_size")
        if not isinstance(edit, dict):
            return {}
        start, end = edit.get("start") or {}, edit.get("end") or {}
        alpha = _num(edit.get("alpha"))
        columns = {}
        for key, label in (("image_change", f"image change at ±{alpha} scale units"),
                           ("rtd_per_change", "RTD per unit of change")):
            before, after = start.get(key), end.get(key)
            if not (isinstance(before, list) and isinstance(after, list)
                    and len(before) == len(after) == k):
                continue
            columns[f"{label} (start → end)"] = [
                f"{_num(a)} → {_num(b)}" for a, b in zip(before, after, strict=True)
            ]
        return columns

    def _section_scores(self) -> str:
        summary = self.score_summary
        recovery = (self.run or {}).get("recovery")
        heatmap = _effects_heatmap(recovery) if isinstance(recovery, dict) else ""
        if heatmap:
            recovery = {k: v for k, v in recovery.items() if k not in MATRIX_KEYS}
        recovery = _flatten(recovery) if isinstance(recovery, dict) else []
        plots = [
            rel
            for rel in self._loose_media()
            if any(w in Path(rel).name.lower() for w in SCORE_PLOT_WORDS)
            and rel.endswith(IMAGE_SUFFIXES)
        ]
        if not (summary or recovery or plots):
            return ""
        out = ['<section id="scores"><h2>Scores</h2>']
        if summary:
            out.append(_table(summary))
        if recovery:
            out.append("<h3>Recovery of the known factors</h3>" + _table(recovery) + heatmap)
        if plots:
            figures = "".join(
                f"<figure>{self._img(rel, Path(rel).stem)}<figcaption>{_esc(rel)}</figcaption>"
                "</figure>"
                for rel in plots
            )
            out.append(f'<div class="row">{figures}</div>')
        return "".join(out) + "</section>"

    def _section_training(self) -> str:
        """Loss curves from the loss history (losses.csv, else the record's rows)."""
        table, source = self._read(read_loss_table, self.root) or ({}, None)
        if source is None or not plot_losses(table, self.root / LOSSES_PNG):
            return ""
        return (
            f'<section id="training"><h2>Training</h2><figure>'
            f"{self._img(LOSSES_PNG, 'loss curves')}<figcaption>Loss curves from "
            f"{self._link(source, source)}.</figcaption></figure></section>"
        )

    def _section_settings(self) -> str:
        if not self.run:
            return ""
        top = {
            k: v
            for k, v in self.run.items()
            if k not in ("settings", "versions", "loss_history", "recovery", "edit_size")
        }
        out = ['<section id="settings"><h2>Settings</h2><div class="row">']
        out.append(f"<div><h3>Run</h3>{_table(_flatten(top))}</div>")
        for key, label in (("settings", "Options"), ("versions", "Versions")):
            if isinstance(self.run.get(key), dict):
                out.append(f"<div><h3>{label}</h3>{_table(_flatten(self.run[key]))}</div>")
        return "".join(out) + "</div></section>"

    def _section_gallery(self) -> str:
        media = [rel for rel in self._loose_media() if rel not in self.shown]
        if not media:
            return ""
        figures = []
        for rel in media:
            if rel.endswith(VIDEO_SUFFIXES):
                self.shown.add(rel)
                item = f'<video src="{_href(rel)}" controls loop muted preload="metadata"></video>'
            else:
                item = self._img(rel, Path(rel).stem)
            figures.append(f"<figure>{item}<figcaption>{_esc(rel)}</figcaption></figure>")
        gallery = "".join(figures)
        return f'<section id="figures"><h2>Figures</h2><div class="row">{gallery}</div></section>'

    def _section_files(self) -> str:
        files = sorted(
            p
            for p in self.root.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.name != REPORT
        )
        if not files:
            return ""
        items = "".join(
            f"<li>{self._link(p.name, p.name)} <span>{_size_text(p.stat().st_size)}</span></li>"
            for p in files
        )
        return f'<section id="files"><h2>Files</h2><ul class="files">{items}</ul></section>'

    # ---- helpers -------------------------------------------------------------------------
    def _loose_media(self) -> list[str]:
        """Images and videos in the folder and its direct sub-folders, by relative path.

        A sub-folder contributes its last ``MAX_MEDIA_PER_FOLDER`` files by name (training
        previews pile up); manifests' files are counted apart, as the report shows them all.
        """
        found = self._media_in(self.root)
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            media = self._media_in(folder)
            loose = [rel for rel in media if rel not in self.shown]
            if len(loose) > MAX_MEDIA_PER_FOLDER:
                rel_folder = folder.relative_to(self.root).as_posix()
                note = f"{rel_folder}/ holds {len(loose)} images; the last {MAX_MEDIA_PER_FOLDER}"
                if note + " are shown." not in self.notes:
                    self.notes.append(note + " are shown.")
                kept = set(loose[-MAX_MEDIA_PER_FOLDER:])
                media = [rel for rel in media if rel in self.shown or rel in kept]
            found += media
        return found

    def _media_in(self, folder: Path) -> list[str]:
        if folder.name.startswith("."):
            return []
        return [
            path.relative_to(self.root).as_posix()
            for path in sorted(folder.iterdir())
            if path.is_file()
            and not path.name.startswith(".")
            and path.suffix.lower() in (*IMAGE_SUFFIXES, *VIDEO_SUFFIXES)
        ]

    def _rendered_indices(self) -> dict[int, str]:
        """Direction index → the folder of its first rendered card."""
        indices: dict[int, str] = {}
        for folder, manifest in self.renders:
            for entry in manifest.get("directions") or []:
                if isinstance(entry, dict) and isinstance(entry.get("index"), int):
                    indices.setdefault(entry["index"], folder)
        return indices

    def _rendered_count(self) -> int:
        indices = self._rendered_indices()
        return max(indices) + 1 if indices else 0


def _score_columns(scores: dict, k: int) -> tuple[list[tuple[str, str]], dict[str, list]]:
    """Split a scores.json object into summary rows and per-direction columns of length ``k``.

    Lists of k numbers (or of k records), and tables keyed by direction index, become columns;
    other scalars become summary rows; matrices and long lists are left to the plots.
    """
    summary: list[tuple[str, str]] = []
    columns: dict[str, list] = {}

    def walk(prefix: str, value) -> None:
        if _is_scalar(value):
            summary.append((prefix, _num(value)))
        elif isinstance(value, list):
            if k and len(value) == k and all(_is_scalar(v) for v in value):
                columns[prefix] = value
            elif k and len(value) == k and all(isinstance(v, dict) for v in value):
                keys = [key for key in value[0] if all(_is_scalar(v.get(key)) for v in value)]
                for key in keys:
                    if key not in ("index", "direction"):
                        columns[f"{prefix}.{key}" if prefix else key] = [v.get(key) for v in value]
            elif len(value) <= 8 and all(_is_scalar(v) for v in value):
                summary.append((prefix, ", ".join(_num(v) for v in value)))
        elif isinstance(value, dict):
            if (
                k
                and value
                and all(_index_key(key, k) is not None for key in value)
                and all(_is_scalar(v) for v in value.values())
            ):
                column = [None] * k
                for key, v in value.items():
                    column[_index_key(key, k)] = v
                columns[prefix] = column
                return
            for key, v in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), v)

    walk("", scores)
    return summary, columns


def _index_key(key, k: int) -> int | None:
    try:
        index = int(key)
    except (TypeError, ValueError):
        return None
    return index if 0 <= index < k else None


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _effects_heatmap(recovery: dict) -> str:
    """The direction × factor effect matrix as a labelled heatmap ("" when absent or bad)."""
    effects, factors = recovery.get("effects"), recovery.get("factor_names")
    try:
        matrix = np.asarray(effects, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    if matrix.ndim != 2 or not isinstance(factors, list) or len(factors) != matrix.shape[1]:
        return ""
    names = recovery.get("direction_names")
    if not isinstance(names, list) or len(names) != matrix.shape[0]:
        names = [""] * matrix.shape[0]
    rows = [str(n) if n else f"d{k:02d}" for k, n in enumerate(names)]
    alpha = recovery.get("effect_alpha", "α")
    return heatmap_table(matrix, rows, [str(f).replace("_", " ") for f in factors],
                         caption=f"mean |Δ factor| when moving ±{alpha} std along each "
                                 "direction, relative to the change between two random "
                                 "samples (rows: directions, columns: factors)")


def _flatten(data: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Nested dict → (dotted key, text) rows; long or deep values are shown as JSON."""
    rows = []
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value and len(value) <= 40:
            rows.extend(_flatten(value, name))
        elif _is_scalar(value):
            rows.append((name, _num(value)))
        elif isinstance(value, list) and len(value) <= 12 and all(_is_scalar(v) for v in value):
            rows.append((name, ", ".join(_num(v) for v in value)))
        else:
            text = json.dumps(value, default=str)
            if len(text) > MAX_JSON_CHARS:
                text = text[:MAX_JSON_CHARS] + " …"
            rows.append((name, text))
    return rows


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _num(value) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value).lower()
    if isinstance(value, float | int) and not isinstance(value, bool):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    try:
        return _num(float(value)) if hasattr(value, "dtype") else str(value)
    except (TypeError, ValueError):
        return str(value)


def _layers_text(layers) -> str:
    if isinstance(layers, list | tuple) and len(layers) == 2:
        return f"{layers[0]}-{layers[1]}"
    return str(layers)


def _seed_text(seeds: list) -> str:
    seeds = [int(s) for s in seeds if isinstance(s, int)]
    if seeds and seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 2:
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def _size_text(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def _anchor(folder: str, index) -> str:
    prefix = "".join(ch if ch.isalnum() else "-" for ch in folder) or "run"
    return f"{prefix}-d{index}"


def _href(rel: str) -> str:
    return quote(rel, safe="/")


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _gandir_version() -> str:
    from gan_directions import __version__

    return __version__


REPORT_CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #f5f6f8; color: #1d2330;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { background: #1f2a44; color: #fff; padding: 18px 32px 12px; }
header h1 { margin: 0 0 4px; font-size: 24px; font-weight: 600; }
header p { margin: 0 0 10px; color: #d5dcec; }
header b { color: #fff; font-weight: 600; }
nav a { color: #a9c6ff; margin-right: 16px; text-decoration: none; }
nav a:hover { text-decoration: underline; }
main { max-width: 1440px; margin: 0 auto; padding: 8px 32px 24px; }
section { background: #fff; border: 1px solid #e1e4ea; border-radius: 8px;
  padding: 14px 20px 18px; margin: 16px 0; }
h2 { margin: 0 0 10px; font-size: 19px; }
h3 { margin: 12px 0 6px; font-size: 15px; }
.facts { color: #4a5163; margin: 0 0 12px; }
.row { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
figure { margin: 0; max-width: 100%; }
figcaption { color: #5b6275; font-size: 13px; margin-top: 4px; }
img, video { max-width: 100%; height: auto; display: block; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr));
  gap: 14px; margin-top: 16px; }
.card { border: 1px solid #e1e4ea; border-radius: 6px; padding: 8px 10px 10px; }
.card h3 { margin: 0 0 6px; }
img.zoom { image-rendering: pixelated; }
.card:target { outline: 2px solid #d64541; }
.links { margin: 6px 0 0; font-size: 13px; }
details { margin-top: 6px; font-size: 13px; }
summary { cursor: pointer; color: #2f5fa8; }
table { border-collapse: collapse; font-size: 14px; }
th, td { padding: 3px 12px 3px 0; border-bottom: 1px solid #edf0f4; text-align: left;
  vertical-align: top; }
table.kv th { font-weight: 500; color: #4a5163; white-space: nowrap; }
table.kv td { word-break: break-word; max-width: 640px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.heatmap caption { caption-side: bottom; font-size: 0.85em; text-align: left; }
.scroll { overflow-x: auto; }
a { color: #2f5fa8; }
.note { background: #fff4e0; border: 1px solid #f1d29a; border-radius: 6px; padding: 8px 12px; }
ul.files { columns: 2; padding-left: 18px; margin: 0; }
ul.files span { color: #7a8195; font-size: 13px; }
footer { color: #7a8195; font-size: 13px; text-align: center; padding: 0 0 24px; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · gandir report</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p>{subtitle}</p>
<nav>{nav}</nav>
</header>
<main>
{notes}
{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"""
