"""Rendering: traversal grids (PNG), animations (GIF, MP4) and the HTML report of a run."""

from gan_directions.render.report import write_report
from gan_directions.render.traversal import render_traversals

__all__ = ["render_traversals", "write_report"]
