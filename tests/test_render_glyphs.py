"""Labels drawn into PNG grids and GIF frames use only glyphs the label font has: no
missing-glyph boxes (the default font has no "≈", which direction names use)."""

import numpy as np
import pytest
from PIL import ImageDraw

from gan_directions.render.animation import compose_frames
from gan_directions.render.grid import traversal_grid
from gan_directions.render.images import has_glyph, label_font, raster_text

NAMED = ["d03 ≈ wall hue", "d04 ≈ café × 2 → σ"]


def test_the_default_font_draws_a_box_for_approx_and_raster_text_avoids_it():
    font = label_font(16)
    assert not has_glyph(font, "≈")  # what made "d03▯wall hue"
    assert raster_text("d03 ≈ wall hue") == "d03 ~ wall hue"
    assert raster_text("café × 2 → σ") == "cafe x 2 -> ?"
    assert all(has_glyph(font, char) for char in raster_text("".join(NAMED)))


@pytest.fixture
def drawn(monkeypatch) -> list[str]:
    """Every string drawn with ``ImageDraw.text`` while the test runs."""
    texts = []
    draw_text = ImageDraw.ImageDraw.text

    def recording(self, xy, text, *args, **kwargs):
        texts.append(text)
        return draw_text(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", recording)
    return texts


def test_grids_and_animation_frames_draw_no_missing_glyph(drawn):
    frames = np.zeros((2, 3, 16, 16, 3), dtype=np.uint8)
    traversal_grid(frames, [-1.0, 0.0, 1.0], NAMED, originals=frames[:, 0])
    compose_frames(frames.transpose(1, 0, 2, 3, 4), [-1.0, 0.0, 1.0], 1.0, captions=NAMED,
                   title=NAMED[0])
    assert any("~ wall hue" in text for text in drawn)
    font = label_font(16)
    missing = {char for text in drawn for char in text if not has_glyph(font, char)}
    assert missing == set()
