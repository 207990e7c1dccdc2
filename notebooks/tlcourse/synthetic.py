"""Synthetic stand-ins for MNIST and EMNIST balanced, generated offline and deterministically.

Each image is a character rendered from one of the fonts that ship with matplotlib, then
randomly warped (rotation, scale, shear, shift), thickened or thinned and blurred, so that a
model has to learn shapes rather than memorise 47 pictures. Shapes and dtypes match the real
data sets: 28×28 uint8 images, upright, white strokes on black, integer labels.

This is *not* handwriting: numbers measured on it say how the code behaves, not how well a
model reads handwritten characters.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.ft2font import FT2Font

DIGITS = "0123456789"
# EMNIST balanced: the 15 letters whose upper and lower case look alike are merged into one class
# (written in upper case), which leaves 10 digits + 26 upper case + 11 lower case = 47 classes.
BALANCED_CHARS = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abdefghnqrt"
MERGED_LOWER = "cijklmopsuvwxyz"

FONT_FILES = [
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
]

CANVAS = 56          # templates are drawn at twice the final resolution
BOX = 38             # the glyph's longest side in the template (19 px at 28×28; MNIST uses 20)
SIZE = 28


def _render(char: str, font_path: str) -> np.ndarray:
    font = FT2Font(font_path)
    font.set_size(BOX * 1.6, 72)
    font.set_text(char)
    font.draw_glyphs_to_bitmap(antialiased=True)
    glyph = np.asarray(font.get_image(), dtype=np.float32) / 255.0
    rows, cols = np.nonzero(glyph > 0.05)
    if rows.size == 0:
        raise ValueError(f"la fuente {Path(font_path).name} no dibuja {char!r}")
    glyph = glyph[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    # Resize so that the longest side is BOX pixels (bilinear, aspect ratio kept).
    scale = BOX / max(glyph.shape)
    h, w = max(1, round(glyph.shape[0] * scale)), max(1, round(glyph.shape[1] * scale))
    yy = (np.arange(h) + 0.5) / scale - 0.5
    xx = (np.arange(w) + 0.5) / scale - 0.5
    resized = _bilinear(glyph[None], np.zeros(1, int), yy[None, :, None] + 0 * xx, xx[None, None, :] + 0 * yy[:, None])[0]
    template = np.zeros((CANVAS, CANVAS), np.float32)
    top, left = (CANVAS - h) // 2, (CANVAS - w) // 2
    template[top:top + h, left:left + w] = resized
    return template


def _dilate(images: np.ndarray) -> np.ndarray:
    """Grey-level dilation with a 3×3 cross: strokes one pixel thicker."""
    out = images.copy()
    out[..., 1:, :] = np.maximum(out[..., 1:, :], images[..., :-1, :])
    out[..., :-1, :] = np.maximum(out[..., :-1, :], images[..., 1:, :])
    out[..., :, 1:] = np.maximum(out[..., :, 1:], images[..., :, :-1])
    out[..., :, :-1] = np.maximum(out[..., :, :-1], images[..., :, 1:])
    return out


def _erode(images: np.ndarray) -> np.ndarray:
    return 1.0 - _dilate(1.0 - images)


@lru_cache(maxsize=4)
def _templates(chars: str) -> tuple[np.ndarray, np.ndarray]:
    """Templates (K, 56, 56) for every (class, glyph variant, font, stroke width) and their class."""
    font_dir = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    images, labels = [], []
    for label, char in enumerate(chars):
        variants = [char] + ([char.lower()] if char.lower() in MERGED_LOWER else [])
        for variant in variants:
            for font_file in FONT_FILES:
                base = _render(variant, str(font_dir / font_file))
                for stroke in (_erode(base), base, _dilate(base), _dilate(_dilate(base))):
                    images.append(stroke)
                    labels.append(label)
    return np.stack(images), np.asarray(labels)


def _bilinear(images, index, y, x):
    """Sample ``images[index]`` at float coordinates (y, x) of shape (B, H, W); zero outside."""
    y0 = np.floor(y).astype(np.int32)
    x0 = np.floor(x).astype(np.int32)
    wy = (y - y0).astype(np.float32)
    wx = (x - x0).astype(np.float32)
    h, w = images.shape[1:]
    flat = images.reshape(len(images), -1)
    base = (np.asarray(index, np.int64) * (h * w))[:, None, None]
    out = np.zeros(y.shape, np.float32)
    for dy, fy in ((0, 1 - wy), (1, wy)):
        for dx, fx in ((0, 1 - wx), (1, wx)):
            yy, xx = y0 + dy, x0 + dx
            inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            values = flat.ravel()[base + np.clip(yy, 0, h - 1) * w + np.clip(xx, 0, w - 1)]
            out += values * (fy * fx * inside)
    return out


def _blur(images: np.ndarray) -> np.ndarray:
    """Separable [1, 2, 1]/4 blur over the last two axes."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    rows = (padded[:, :-2, :] + 2 * padded[:, 1:-1, :] + padded[:, 2:, :]) / 4
    return (rows[:, :, :-2] + 2 * rows[:, :, 1:-1] + rows[:, :, 2:]) / 4


def _warp_batch(templates, template_labels, labels, rng):
    """One image per label: a random template of that class under a random affine warp."""
    n = len(labels)
    # Pick a template of the right class for each sample.
    order = np.argsort(template_labels, kind="stable")
    counts = np.bincount(template_labels)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = order[starts[labels] + (rng.random(n) * counts[labels]).astype(int)]

    angle = np.deg2rad(rng.normal(0, 10, n).clip(-25, 25))
    scale = rng.uniform(0.8, 1.15, n)
    aspect = rng.uniform(0.85, 1.15, n)
    shear = rng.normal(0, 0.15, n).clip(-0.4, 0.4)
    shift = rng.normal(0, 1.0, (n, 2)).clip(-3, 3)

    # Inverse map: output pixel (28×28, centred) -> template pixel (56×56, centred).
    cos, sin = np.cos(angle), np.sin(angle)
    a = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)      # rotation
    a = a @ np.stack([np.stack([np.ones(n), shear], -1),
                      np.stack([np.zeros(n), np.ones(n)], -1)], -2)                # shear
    a = a * np.stack([scale * aspect, scale / aspect], -1)[:, None, :]            # scale
    inv = np.linalg.inv(a) * (CANVAS / SIZE)
    inv = inv.astype(np.float32)[:, :, :, None, None]
    grid = np.arange(SIZE, dtype=np.float32) - (SIZE - 1) / 2
    py = grid[None, :, None] - shift[:, 0, None, None].astype(np.float32)          # (n, 28, 1)
    px = grid[None, None, :] - shift[:, 1, None, None].astype(np.float32)          # (n, 1, 28)
    centre = (CANVAS - 1) / 2
    src_y = inv[:, 0, 0] * py + inv[:, 0, 1] * px + centre                         # (n, 28, 28)
    src_x = inv[:, 1, 0] * py + inv[:, 1, 1] * px + centre
    images = _bilinear(templates, pick, src_y, src_x)

    blur = rng.uniform(0, 1, n)[:, None, None].astype(np.float32)
    images = (1 - blur) * images + blur * _blur(images)
    peak = rng.uniform(0.85, 1.0, n)[:, None, None]
    gain = peak / np.maximum(images.max(axis=(1, 2), keepdims=True), 1e-3)
    return np.clip(images * gain * 255 + 0.5, 0, 255).astype(np.uint8)


def generate(chars: str, n: int, seed: int, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """``n`` balanced, shuffled samples of the classes ``chars`` (label i is ``chars[i]``)."""
    templates, template_labels = _templates(chars)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(chars)).astype(np.uint8)
    images = np.empty((n, SIZE, SIZE), np.uint8)
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        images[start:stop] = _warp_batch(templates, template_labels, labels[start:stop], rng)
    return images, labels
