"""Built-in MNIST-like digits, rendered from stroke paths with numpy.

Each digit class has a few *writing styles* (a 7 with and without a bar, a 4 open and closed, ...). A
style is a set of pen strokes through key points in a unit box (x to the right, y downwards, the
digit about one unit tall). Rendering one sample:

1. jitter every key point (a point shared by two strokes moves once, so strokes stay joined);
2. evaluate each stroke as a uniform Catmull-Rom spline at points evenly spaced along its length
   (the spline is linear in the key points, so this is one matrix product for all samples);
3. apply a random affine map (rotation, shear, aspect ratio), scale the digit so that the larger
   side of its bounding box is 15-19.5 px (MNIST fits digits into a 20 px box), and displace every
   point by a smooth random field (elastic distortion: a sum of random plane waves);
4. splat the points bilinearly into a density image, each weighted by the pen travel it stands for
   and by a slowly varying pen pressure; blur with a Gaussian of random width (stroke thickness and
   anti-aliasing); multiply by pixel noise (uneven ink); map density to ink with
   ``1 - exp(-depth * density)``, which saturates stroke cores as a pen does; clear faint halos;
5. crop the 28 x 28 window that puts the centre of mass within half a pixel of (14, 14), moving by
   whole pixels as MNIST's centring did.

Everything is vectorised over the samples of a style: 70,000 images take about 2 s on one core.
The strengths in :class:`_Params` were calibrated so that a linear classifier and an MLP find the
set about as hard as MNIST (``docs/data.md``); changing them changes that, and must bump
:data:`GENERATOR_VERSION`.
"""

from __future__ import annotations

import functools
import math
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._checks import check_int
from .cache import cache_dir, load_npz, save_npz

#: Bumped whenever the rendered images change for the same arguments: it keys the cache and seeds the
#: random streams. (Version 1 was never released: development builds wrote version-1 cache files.)
GENERATOR_VERSION = 2

IMAGE_SIZE = 28
_PAD = 3  # canvas margin around the 28 x 28 window: room for centring shifts
_WAVES = 3  # plane waves per axis in the elastic displacement field
_BLUR_RADIUS = 3  # taps on each side of the Gaussian blur kernel
_CANVAS = IMAGE_SIZE + 2 * (_PAD + _BLUR_RADIUS)
_CHUNK = 2048  # samples per independently seeded chunk: bounds memory, fixes the random streams
_SPACING = 0.45  # target distance between rendered points along a stroke, in pixels
_BOX = 20.0  # MNIST fits each digit into a 20 x 20 box
_AUTO_CACHE_MIN = 10_000  # cache=None caches sets at least this large


@dataclass(frozen=True)
class _Style:
    """One way of writing a digit: key points and, per rendered point, spline weights over them."""

    keypoints: np.ndarray  # (K, 2) canonical key points
    basis: np.ndarray  # (P, K) rendered point p = basis[p] @ keypoints
    arclen: np.ndarray  # (P,) arc length of each point along its stroke (canonical units)
    step_next: np.ndarray  # (P,) index of the neighbour used to measure pen travel
    weight: float  # relative frequency of this style within its digit


def _catmull_rom(t: np.ndarray) -> np.ndarray:
    """Weights of the four control points of a uniform Catmull-Rom segment at parameters ``t``."""
    t2, t3 = t * t, t * t * t
    return 0.5 * np.stack(
        [-t3 + 2 * t2 - t, 3 * t3 - 5 * t2 + 2, -3 * t3 + 4 * t2 + t, t3 - t2], axis=-1
    )


def _stroke_basis(idx: list[int], closed: bool, n_keys: int, t: np.ndarray) -> np.ndarray:
    """Matrix (len(t), n_keys) evaluating the spline through key points ``idx`` at global params ``t``.

    ``t`` runs over [0, n_segments]; segment ``s`` goes from ``idx[s]`` to ``idx[s + 1]``. Open ends are
    extended by reflection (phantom point ``2 p0 - p1``), which is linear in the key points too.
    """
    m = len(idx)
    n_seg = m if closed else m - 1
    seg = np.minimum(np.floor(t).astype(int), n_seg - 1)
    local = _catmull_rom(t - seg)
    basis = np.zeros((len(t), n_keys))
    rows = np.arange(len(t))
    for j in range(4):
        k = seg + j - 1  # control point position within the stroke
        if closed:
            np.add.at(basis, (rows, np.asarray(idx)[k % m]), local[:, j])
            continue
        for pos, end, other in ((-1, 0, 1), (m, m - 1, m - 2)):
            hit = k == pos  # phantom point = 2 * end - neighbour
            np.add.at(basis, (rows[hit], np.asarray(idx)[end]), 2 * local[hit, j])
            np.add.at(basis, (rows[hit], np.asarray(idx)[other]), -local[hit, j])
        inner = (k >= 0) & (k < m)
        np.add.at(basis, (rows[inner], np.asarray(idx)[k[inner]]), local[inner, j])
    return basis


def _make_style(strokes: list[tuple[list[tuple[float, float]], bool]], weight: float) -> _Style:
    """Build a style from strokes given as point lists; identical points are shared key points."""
    keys: dict[tuple[float, float], int] = {}
    index_lists = []
    for points, _ in strokes:
        index_lists.append([keys.setdefault(tuple(p), len(keys)) for p in points])
    kp = np.array(list(keys), dtype=np.float64)
    blocks, arcs, nexts = [], [], []
    offset = 0
    for idx, (_, closed) in zip(index_lists, strokes, strict=True):
        n_seg = len(idx) if closed else len(idx) - 1
        dense_t = np.linspace(0.0, n_seg, 64 * n_seg + 1)
        dense = _stroke_basis(idx, closed, len(kp), dense_t) @ kp
        cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
        n_pts = max(2, math.ceil(cum[-1] * _BOX / _SPACING))
        s = np.linspace(0.0, cum[-1], n_pts, endpoint=not closed)
        t = np.interp(s, cum, dense_t)
        blocks.append(_stroke_basis(idx, closed, len(kp), t))
        arcs.append(s)
        nxt = np.arange(1, n_pts + 1)
        nxt[-1] = 0 if closed else n_pts - 2  # last point of an open stroke measures backwards
        nexts.append(nxt + offset)
        offset += n_pts
    return _Style(
        keypoints=kp,
        basis=np.concatenate(blocks),
        arclen=np.concatenate(arcs),
        step_next=np.concatenate(nexts),
        weight=weight,
    )


def _ellipse(
    cx: float, cy: float, rx: float, ry: float, n: int = 8, start: float = -90.0, sweep: float = 360.0
) -> list[tuple[float, float]]:
    """Key points on an ellipse arc, starting at ``start`` degrees (0 = right, -90 = top)."""
    closed = abs(sweep) == 360.0
    angles = np.deg2rad(start + np.linspace(0.0, sweep, n, endpoint=not closed))
    return [(round(cx + rx * math.cos(a), 4), round(cy + ry * math.sin(a), 4)) for a in angles]


def _open(*points: tuple[float, float]) -> tuple[list[tuple[float, float]], bool]:
    """An open stroke through ``points`` (a closed one is written ``(points, True)``)."""
    return list(points), False


def _style_table() -> list[list[_Style]]:
    """The writing styles of each digit 0-9 (canonical box about 0..1 wide, 0..1 tall)."""
    S = _make_style
    top9 = _ellipse(0.43, 0.26, 0.3, 0.26, 6, start=0.0)
    return [
        [  # 0: oval, tilted egg with an overlapping start, narrow
            S([(_ellipse(0.5, 0.5, 0.34, 0.5, 6), True)], 2.0),
            S([_open(*_ellipse(0.5, 0.5, 0.36, 0.5, 8, start=-100.0, sweep=-390.0))], 1.0),
            S([(_ellipse(0.5, 0.5, 0.24, 0.5, 6), True)], 1.0),
        ],
        [  # 1: bare stem, with a flag, with flag and base
            S([_open((0.52, 0.0), (0.5, 0.5), (0.48, 1.0))], 3.0),
            S([_open((0.38, 0.17), (0.52, 0.0)), _open((0.52, 0.0), (0.5, 0.5), (0.48, 1.0))], 1.5),
            S([_open((0.38, 0.16), (0.52, 0.0)), _open((0.52, 0.0), (0.5, 0.5), (0.5, 1.0)),
               _open((0.25, 1.0), (0.5, 1.0), (0.75, 1.0))], 0.7),
        ],
        [  # 2: plain corner base, looped base, curly
            S([_open((0.12, 0.25), (0.38, 0.02), (0.72, 0.05), (0.82, 0.3), (0.6, 0.6),
                     (0.12, 0.98)),
               _open((0.12, 0.98), (0.5, 0.97), (0.9, 0.98))], 2.0),
            S([_open((0.12, 0.25), (0.38, 0.02), (0.72, 0.05), (0.82, 0.3), (0.6, 0.6),
                     (0.2, 0.93), (0.1, 0.84), (0.25, 0.8), (0.35, 0.95), (0.6, 0.98),
                     (0.9, 0.95))], 1.0),
            S([_open((0.15, 0.3), (0.3, 0.05), (0.65, 0.0), (0.85, 0.25), (0.7, 0.55),
                     (0.35, 0.8), (0.15, 1.0)),
               _open((0.15, 1.0), (0.55, 0.93), (0.92, 0.96))], 1.0),
        ],
        [  # 3: round top, flat top
            S([_open((0.15, 0.15), (0.5, 0.0), (0.82, 0.2), (0.68, 0.42), (0.42, 0.48)),
               _open((0.42, 0.48), (0.72, 0.55), (0.88, 0.77), (0.55, 1.0), (0.12, 0.86))], 2.0),
            S([_open((0.15, 0.0), (0.5, 0.01), (0.85, 0.0)),
               _open((0.85, 0.0), (0.6, 0.22), (0.4, 0.43)),
               _open((0.4, 0.43), (0.75, 0.5), (0.9, 0.75), (0.6, 1.0), (0.12, 0.88))], 1.0),
        ],
        [  # 4: open top, closed triangle, open with long stem
            S([_open((0.2, 0.0), (0.14, 0.35), (0.1, 0.62)),
               _open((0.1, 0.62), (0.5, 0.62), (0.92, 0.6)),
               _open((0.72, 0.05), (0.71, 0.5), (0.7, 1.0))], 2.0),
            S([_open((0.62, 0.0), (0.34, 0.34), (0.05, 0.68)),
               _open((0.05, 0.68), (0.5, 0.68), (0.98, 0.67)),
               _open((0.62, 0.0), (0.62, 0.5), (0.62, 1.0))], 2.0),
            S([_open((0.3, 0.0), (0.2, 0.3), (0.12, 0.55), (0.45, 0.58), (0.9, 0.5)),
               _open((0.68, 0.18), (0.68, 0.6), (0.64, 1.0))], 1.0),
        ],
        [  # 5: bar drawn separately, one continuous stroke
            S([_open((0.85, 0.02), (0.5, 0.01), (0.24, 0.02)),
               _open((0.24, 0.02), (0.22, 0.25), (0.2, 0.46)),
               _open((0.2, 0.46), (0.55, 0.37), (0.86, 0.6), (0.7, 0.92), (0.4, 1.0),
                     (0.14, 0.94))], 2.0),
            S([_open((0.28, 0.0), (0.22, 0.45), (0.55, 0.38), (0.85, 0.62), (0.7, 0.92),
                     (0.38, 1.0), (0.14, 0.95)),
               _open((0.28, 0.0), (0.55, 0.0), (0.88, 0.0))], 1.5),
        ],
        [  # 6: curved stem, straight stem with a small loop
            S([_open((0.78, 0.04), (0.45, 0.18), (0.2, 0.52), (0.22, 0.86), (0.5, 1.0),
                     (0.78, 0.82), (0.72, 0.58), (0.45, 0.52), (0.22, 0.66))], 2.0),
            S([_open((0.68, 0.0), (0.42, 0.35), (0.25, 0.75), (0.4, 0.98), (0.7, 0.9),
                     (0.72, 0.66), (0.45, 0.62), (0.27, 0.76))], 1.0),
        ],
        [  # 7: plain, with a middle bar, curved stem
            S([_open((0.1, 0.03), (0.5, 0.02), (0.9, 0.02)),
               _open((0.9, 0.02), (0.65, 0.5), (0.42, 1.0))], 2.0),
            S([_open((0.1, 0.03), (0.5, 0.02), (0.9, 0.02)),
               _open((0.9, 0.02), (0.65, 0.5), (0.42, 1.0)),
               _open((0.4, 0.52), (0.62, 0.5), (0.85, 0.49))], 1.0),
            S([_open((0.08, 0.08), (0.3, 0.0), (0.6, 0.05), (0.9, 0.0)),
               _open((0.9, 0.0), (0.62, 0.35), (0.5, 0.7), (0.48, 1.0))], 1.0),
        ],
        [  # 8: two stacked loops, one continuous figure-eight stroke
            S([(_ellipse(0.5, 0.24, 0.27, 0.24, 6), True),
               (_ellipse(0.5, 0.73, 0.33, 0.27, 6, start=90.0), True)], 1.5),
            S([_open((0.75, 0.12), (0.5, 0.0), (0.25, 0.15), (0.35, 0.38), (0.65, 0.58),
                     (0.8, 0.82), (0.5, 1.0), (0.2, 0.82), (0.35, 0.58), (0.65, 0.38),
                     (0.75, 0.2), (0.74, 0.12))], 2.0),
        ],
        [  # 9: loop with straight stem, loop with curved stem
            S([(top9, True), _open(top9[0], (0.74, 0.65), (0.72, 1.0))], 2.0),
            S([(top9, True), _open(top9[0], (0.72, 0.7), (0.45, 1.0))], 1.0),
        ],
    ]


@functools.lru_cache(maxsize=1)
def _styles() -> list[list[_Style]]:
    """The style table, built once per process (about 0.1 s)."""
    return _style_table()


@dataclass(frozen=True)
class _Params:
    """Distortion strengths: (low, high) pairs are uniform ranges; scalars are standard deviations
    or amplitudes. Key-point jitter is in units of the digit's height, everything else in pixels."""

    key_jitter: float = 0.05  # std of the independent jitter of every key point
    rotation_deg: float = 30.0  # rotation uniform in +-30 degrees
    shear: float = 0.5  # horizontal shear (slant) uniform in +-0.5
    aspect: tuple[float, float] = (0.7, 1.4)  # width multiplier before size normalisation
    size: tuple[float, float] = (15.0, 19.5)  # larger side of the centre line's bounding box
    elastic_px: float = 0.9  # rms displacement of the elastic field, per axis
    elastic_wavelength: tuple[float, float] = (10.0, 22.0)  # of its plane waves
    blur_sigma: tuple[float, float] = (0.4, 0.7)  # Gaussian blur width: thickness and anti-aliasing
    depth: tuple[float, float] = (5.0, 10.0)  # optical depth at a stroke's centre (darkness)
    floor: float = 0.12  # ink below this becomes background, the rest is stretched to [0, 1]
    pressure: float = 0.25  # relative amplitude of the pen-pressure wave along a stroke
    noise: float = 0.15  # std of the multiplicative pixel noise on the density


_DEFAULT = _Params()


def _render_style(style: _Style, n: int, rng: np.random.Generator, p: _Params) -> np.ndarray:
    """Float32 ink images (n, 28, 28) in [0, 1] for ``n`` samples of one style."""
    k, n_pts = style.keypoints.shape[0], style.basis.shape[0]
    kp = style.keypoints[:, None, :] + p.key_jitter * rng.standard_normal((k, n, 2))
    # one GEMM evaluates every spline of every sample: (P, K) @ (K, n * 2)
    pts = (style.basis @ kp.reshape(k, 2 * n)).reshape(n_pts, n, 2).astype(np.float32)
    x, y = pts[..., 0], pts[..., 1]  # (P, n) each
    x -= x.mean(axis=0)
    y -= y.mean(axis=0)

    theta = np.deg2rad(rng.uniform(-p.rotation_deg, p.rotation_deg, n))
    shear = rng.uniform(-p.shear, p.shear, n)
    aspect = rng.uniform(*p.aspect, n)
    c, s = np.cos(theta), np.sin(theta)
    # A = R(theta) @ [[1, shear], [0, 1]] @ diag(aspect, 1), acting on (x, y) column vectors
    a = np.stack([c * aspect, c * shear - s, s * aspect, s * shear + c]).astype(np.float32)
    x, y = a[0] * x + a[1] * y, a[2] * x + a[3] * y

    extent = np.maximum(np.ptp(x, axis=0), np.ptp(y, axis=0))  # larger side of the bounding box
    scale = (rng.uniform(*p.size, n) / np.maximum(extent, 1e-6)).astype(np.float32)
    x *= scale
    y *= scale

    # elastic distortion: a sum of plane waves per axis, total amplitude ~ elastic_px
    for _ in range(_WAVES):
        wl = rng.uniform(*p.elastic_wavelength, (2, n))
        ang = rng.uniform(0, 2 * np.pi, (2, n))
        kx = (np.cos(ang) * 2 * np.pi / wl).astype(np.float32)
        ky = (np.sin(ang) * 2 * np.pi / wl).astype(np.float32)
        phase = rng.uniform(0, 2 * np.pi, (2, n)).astype(np.float32)
        amp = (p.elastic_px / math.sqrt(_WAVES) * rng.standard_normal((2, n))).astype(np.float32)
        dx = amp[0] * np.sin(x * kx[0] + y * ky[0] + phase[0])
        y = y + amp[1] * np.sin(x * kx[1] + y * ky[1] + phase[1])
        x = x + dx

    # weight = pen travel per point (uniform density per unit length) times pen pressure
    w = np.hypot(x[style.step_next] - x, y[style.step_next] - y)
    freq = rng.uniform(2.0, 6.0, n).astype(np.float32)
    ph = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
    w *= 1.0 + p.pressure * np.sin(style.arclen[:, None].astype(np.float32) * freq + ph)

    # place the centre of the ink at the image centre plus a sub-pixel offset
    total = w.sum(axis=0)
    off = _PAD + _BLUR_RADIUS + 14.0 + rng.uniform(-0.5, 0.5, (2, n)).astype(np.float32)
    x += off[0] - (w * x).sum(axis=0) / total
    y += off[1] - (w * y).sum(axis=0) / total

    sigma = rng.uniform(*p.blur_sigma, n)
    dens = _blur(_splat(x, y, w, _CANVAS), sigma)
    # density across a blurred unit line peaks at 1 / (sqrt(2 pi) sigma): `depth` is the optical
    # depth at the centre of a stroke, so the ink there is 1 - exp(-depth) whatever the width
    depth = (rng.uniform(*p.depth, n) * math.sqrt(2 * math.pi) * sigma).astype(np.float32)
    noise = rng.standard_normal(dens.shape, dtype=np.float32)
    noise *= p.noise
    noise += 1.0
    dens *= noise  # uneven ink; saturated stroke cores stay dark
    dens *= -depth[:, None, None]
    ink = 1.0 - np.exp(dens)
    ink -= p.floor  # faint halos become background, as on paper
    np.maximum(ink, 0.0, out=ink)
    ink *= 1.0 / (1.0 - p.floor)
    return _centre_crop(ink)


def _splat(x: np.ndarray, y: np.ndarray, w: np.ndarray, size: int) -> np.ndarray:
    """Bilinear splat of points (coordinates and weights of shape (P, n)) into (n, size, size)."""
    n = x.shape[1]
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    x0 = np.clip(x0.astype(np.int64), 0, size - 2)
    y0 = np.clip(y0.astype(np.int64), 0, size - 2)
    base = np.arange(n) * (size * size) + y0 * size + x0
    idx = np.concatenate([base, base + 1, base + size, base + size + 1])
    wy = w * fy
    wt = np.concatenate([w - wy - (w - wy) * fx, (w - wy) * fx, wy - wy * fx, wy * fx])
    out = np.bincount(idx.ravel(), weights=wt.ravel(), minlength=n * size * size)
    return out.astype(np.float32).reshape(n, size, size)


def _blur(img: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Separable Gaussian blur, one width per image; shrinks each side by ``_BLUR_RADIUS``."""
    r = _BLUR_RADIUS
    taps = np.arange(-r, r + 1)
    kern = np.exp(-0.5 * (taps[None, :] / sigma[:, None]) ** 2)
    kern = (kern / kern.sum(axis=1, keepdims=True)).astype(np.float32)
    h, w = img.shape[1] - 2 * r, img.shape[2] - 2 * r
    rows = kern[:, 0, None, None] * img[:, :h, :]
    for j in range(1, 2 * r + 1):
        rows += kern[:, j, None, None] * img[:, j : j + h, :]
    out = kern[:, 0, None, None] * rows[:, :, :w]
    for j in range(1, 2 * r + 1):
        out += kern[:, j, None, None] * rows[:, :, j : j + w]
    return out


def _centre_crop(ink: np.ndarray) -> np.ndarray:
    """Crop (n, 28, 28) windows from (n, size, size) images, centre of mass within 0.5 px of 14.

    The windows move by whole pixels, as MNIST's centring did.
    """
    n, size, _ = ink.shape
    pos = np.arange(size, dtype=np.float32)
    mass = ink.sum(axis=(1, 2))
    mass = np.where(mass > 0, mass, 1.0)
    cy = ink.sum(axis=2) @ pos / mass
    cx = ink.sum(axis=1) @ pos / mass
    # window start so that (c - start) lands in [13.5, 14.5)
    sy = np.clip(np.floor(cy - 13.5).astype(np.int64), 0, size - IMAGE_SIZE)
    sx = np.clip(np.floor(cx - 13.5).astype(np.int64), 0, size - IMAGE_SIZE)
    r = np.arange(IMAGE_SIZE)
    rows = (sy[:, None] + r)[:, :, None]
    cols = (sx[:, None] + r)[:, None, :]
    return ink[np.arange(n)[:, None, None], rows, cols]


def _render(labels: np.ndarray, rng: np.random.Generator, p: _Params = _DEFAULT) -> np.ndarray:
    """uint8 images (len(labels), 28, 28) of the given digit labels."""
    styles = _styles()
    n = len(labels)
    out = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for digit in range(10):
        where = np.flatnonzero(labels == digit)
        if where.size == 0:
            continue
        probs = np.array([s.weight for s in styles[digit]])
        choice = rng.choice(len(probs), size=where.size, p=probs / probs.sum())
        for si, style in enumerate(styles[digit]):
            sel = where[choice == si]
            if sel.size == 0:
                continue
            ink = _render_style(style, sel.size, rng, p)
            out[sel] = np.rint(np.clip(ink, 0.0, 1.0) * 255.0).astype(np.uint8)
    return out


def _labels(n: int, rng: np.random.Generator) -> np.ndarray:
    """Balanced labels: each digit ``n // 10`` or ``n // 10 + 1`` times, in random order."""
    return rng.permutation(np.arange(n, dtype=np.int64) % 10)


def _generate_split(
    n: int, seed: int, split: int, p: _Params = _DEFAULT
) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split; chunk ``c`` draws from its own stream (seed, split, c)."""
    labels = _labels(n, np.random.default_rng([GENERATOR_VERSION, seed, split]))
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for c, start in enumerate(range(0, n, _CHUNK)):
        rng = np.random.default_rng([GENERATOR_VERSION, seed, split, c + 1])
        images[start : start + _CHUNK] = _render(labels[start : start + _CHUNK], rng, p)
    return images, labels


def cache_path(n_train: int, n_test: int, seed: int) -> Path:
    """The cache file of ``synthetic_digits(n_train, n_test, seed)`` (keyed by the generator version)."""
    name = f"synthetic-digits-v{GENERATOR_VERSION}-train{n_train}-test{n_test}-seed{seed}.npz"
    return cache_dir() / name


def _read_cache(path: Path, n_train: int, n_test: int) -> dict[str, np.ndarray] | None:
    """The cached arrays of this call if ``path`` holds them intact, else ``None`` (render again).

    The cache only saves time, so every way a cache file can be bad means "absent": not a regular
    file (a folder, or a FIFO that would block the read), anything the reader returns or raises for a
    damaged or hostile file, and arrays that are not exactly the expected ones. (Only
    ``KeyboardInterrupt`` and its kin pass through.)
    """
    img, lab = np.dtype(np.uint8), np.dtype(np.int64)
    expected = {
        "x_train": (img, (n_train, IMAGE_SIZE, IMAGE_SIZE)),
        "y_train": (lab, (n_train,)),
        "x_test": (img, (n_test, IMAGE_SIZE, IMAGE_SIZE)),
        "y_test": (lab, (n_test,)),
    }
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        found = load_npz(path, expected)
    except Exception:  # a cache file is never trusted: whatever goes wrong, render again
        return None
    if not isinstance(found, dict) or set(found) != set(expected):
        return None
    for key, (dtype, shape) in expected.items():
        arr = found[key]
        if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.shape != shape:
            return None
    return found


def synthetic_digits(
    n_train: int = 60000, n_test: int = 10000, seed: int = 0, *, cache: bool | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Render an MNIST-like set of handwritten digits.

    Each image is drawn from its own random stroke path: one of several writing styles of its digit
    with jittered key points, a random affine map (rotation, shear, aspect, size), an elastic
    distortion, a random stroke thickness with anti-aliasing, uneven ink, and centring by centre of
    mass in a 28 x 28 frame, as MNIST was prepared. The result is as hard as MNIST for the models
    that matter (see ``docs/data.md``): a linear softmax classifier reaches about 89-90 % test accuracy,
    a 784-256-256-10 ReLU MLP about 98 %.

    Parameters
    ----------
    n_train, n_test : int
        Number of training and test images (>= 0). Labels are balanced: every digit occurs
        ``n // 10`` or ``n // 10 + 1`` times, in random order.
    seed : int
        Non-negative seed. The same arguments give identical arrays on every run and machine
        (for one ``GENERATOR_VERSION``). The test split depends only on ``(n_test, seed)``, and
        it is drawn from a stream independent of the training split.
    cache : bool or None
        ``True``: load from / save to an ``.npz`` in :func:`tinynet.data.cache.cache_dir` keyed by
        every argument and the generator version; ``False``: always render; ``None`` (default):
        cache only sets of at least 10,000 images, which take longer to render than to load. A
        cache file that is not a regular file, cannot be read (truncated, corrupted, crafted: whatever
        the reader raises) or holds the wrong arrays is rendered again and replaced; files are
        written to a temporary name and renamed. A cache that cannot be written only warns.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x``: ``uint8`` arrays of shape ``(n, 28, 28)``, ink 255 on background 0;
        ``y``: ``int64`` arrays of shape ``(n,)`` with values 0-9.

    Raises
    ------
    TypeError
        If a count or the seed is not an int, or ``cache`` is not a bool or None.
    ValueError
        If a count or the seed is negative.
    """
    n_train = check_int("synthetic_digits", "n_train", n_train, minimum=0)
    n_test = check_int("synthetic_digits", "n_test", n_test, minimum=0)
    seed = check_int("synthetic_digits", "seed", seed, minimum=0)
    if cache is not None and not isinstance(cache, bool):
        raise TypeError(f"synthetic_digits: cache must be True, False or None, got {cache!r}")
    if cache is None:
        cache = n_train + n_test >= _AUTO_CACHE_MIN

    path = cache_path(n_train, n_test, seed) if cache else None
    found = _read_cache(path, n_train, n_test) if path is not None else None
    if found is not None:
        return (found["x_train"], found["y_train"]), (found["x_test"], found["y_test"])

    x_train, y_train = _generate_split(n_train, seed, 0)
    x_test, y_test = _generate_split(n_test, seed, 1)
    if path is not None:
        try:
            save_npz(path, {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test})
        except OSError as exc:
            warnings.warn(f"synthetic_digits: could not write the cache file {path}: {exc}", stacklevel=2)
    return (x_train, y_train), (x_test, y_test)
