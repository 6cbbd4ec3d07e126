r"""Photographs as matrices: rank-k compression, PSNR, storage and rank sweeps.

The seed turns a photo into a grayscale matrix, takes its SVD and rebuilds it
from the top k singular triplets.  Here that works for any image Pillow reads:

* an image becomes one float32 matrix per channel (grayscale: one; colour:
  red, green, blue and alpha when present).  **Channels are compressed
  separately**: each keeps its own spectrum and rank, and a channel costs
  :math:`k(m + n + 1)` numbers.  (Stacking the channels side by side into one
  m×3n matrix would share U between them: fewer numbers at the same k, but
  the channels' different detail competes for the same k directions.)
* :func:`compress` fits a :class:`~skla.TruncatedSVDCompressor` per channel;
  the resulting :class:`CompressedImage` rebuilds the image at its rank or
  any lower one -- the rank-64 factors contain every smaller rank, so a
  whole rank sweep needs one factorisation.
* Rebuilt pixels are rounded and clipped to the valid range (0–255, or
  0–65535 for 16-bit images); :func:`psnr` compares them with the original.
* :meth:`CompressedImage.save` writes the factors to ``.npz`` (U and Vᵀ as
  float16, σ as float32), so the saving is real and measurable on disk.

Pillow's decompression-bomb guard stays on; unreadable, truncated or
non-image files raise :class:`ImageError` naming the file.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from ._algorithms._linalg import dot
from .decomposition import TruncatedSVDCompressor

__all__ = [
    "CompressedImage",
    "ImageError",
    "compress",
    "contact_sheet",
    "jpeg_at_size",
    "load_image",
    "psnr",
    "to_array",
]

# Pillow modes and the mode skla rebuilds them in (anything else becomes RGB).
_MODES = {
    "1": "L",
    "L": "L",
    "LA": "LA",
    "RGB": "RGB",
    "RGBA": "RGBA",
    "I;16": "I;16",
    "I;16L": "I;16",
    "I;16B": "I;16",
    "I;16N": "I;16",
    "I": "I;16",
}


class ImageError(ValueError):
    """A file that cannot be read as an image (missing, not an image, damaged).

    Examples
    --------
    >>> try:
    ...     load_image("no-such-photo.jpg")
    ... except ImageError as error:
    ...     print(error)
    no-such-photo.jpg: no such file
    """


def load_image(path) -> Image.Image:
    """Open and fully decode an image file.

    Parameters
    ----------
    path : str or path-like
        Any format Pillow reads.

    Returns
    -------
    image : PIL.Image.Image
        The decoded image.

    Raises
    ------
    ImageError
        If the file is missing, is not an image, or is truncated or damaged.
        Pillow's ``DecompressionBombError`` (an image too large to be safe)
        passes through unchanged.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> path = Path(tempfile.mkdtemp()) / "grey.png"
    >>> Image.new("L", (4, 3), 128).save(path)
    >>> image = load_image(path)
    >>> image.mode, image.size
    ('L', (4, 3))
    """
    path = _existing_file(path, "an image file")
    try:
        with Image.open(path) as image:
            image.load()  # decode now, so a truncated file fails here
            return image.copy()
    except Image.DecompressionBombError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path}: truncated or damaged image ({exc})") from None


def _existing_file(path, what):
    """``path`` as a Path if it is a file, else an ImageError saying why."""
    path = Path(path)
    if path.is_dir():
        raise ImageError(f"{path}: is a directory, not {what}")
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    return path


def to_array(image: Image.Image):
    """An image as a float32 array (height, width, channels), with its mode.

    Parameters
    ----------
    image : PIL.Image.Image
        Any mode; palette, CMYK, YCbCr and other modes become RGB (RGBA when
        a palette has transparency), "1" becomes "L", 32-bit "I" becomes
        16-bit.

    Returns
    -------
    pixels : ndarray of shape (height, width, channels), float32
    mode : str
        The mode the pixels are in: "L", "LA", "RGB", "RGBA" or "I;16".
    peak : float
        The largest valid pixel value (255, or 65535 for "I;16").

    Examples
    --------
    >>> from PIL import Image
    >>> pixels, mode, peak = to_array(Image.new("P", (4, 2)))
    >>> pixels.shape, mode, peak
    ((2, 4, 3), 'RGB', 255.0)
    """
    mode = _MODES.get(image.mode)
    if mode is None:
        transparent = image.mode == "P" and "transparency" in image.info
        mode = "RGBA" if transparent or image.mode in ("PA", "RGBa") else "RGB"
    if mode == "I;16":
        pixels = np.clip(np.asarray(image, dtype=np.float32), 0, 65535)
        peak = 65535.0
    else:
        pixels = np.asarray(image.convert(mode), dtype=np.float32)
        peak = 255.0
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return pixels, mode, peak


def psnr(original, rebuilt, peak=255.0) -> float:
    r"""Peak signal-to-noise ratio in dB, :math:`10 \log_{10}(p^2/\mathrm{MSE})`.

    Parameters
    ----------
    original, rebuilt : array-like of the same shape
        Pixel values.
    peak : float, default=255.0
        The largest valid pixel value.

    Returns
    -------
    psnr : float
        Infinite for identical images.

    Examples
    --------
    >>> import numpy as np
    >>> round(psnr(np.zeros(4), np.full(4, 2.55)), 6)  # MSE = 2.55², peak 255
    40.0
    """
    diff = np.asarray(original, dtype=np.float64) - np.asarray(rebuilt, np.float64)
    mse = float(np.mean(diff**2))
    return np.inf if mse == 0 else float(10 * np.log10(peak**2 / mse))


@dataclass
class CompressedImage:
    """An image stored as per-channel singular triplets.

    Attributes
    ----------
    factors : list of (U, s, Vt)
        One triplet set per channel, largest singular value first: ``U``
        (height × k), ``s`` (k,), ``Vt`` (k × width).
    mode : str
        The Pillow mode to rebuild in ("L", "LA", "RGB", "RGBA", "I;16").
    peak : float
        The largest valid pixel value.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> pixels = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
    >>> compressed = compress(pixels, 5)
    >>> compressed.ranks, compressed.shape, compressed.stored_numbers()
    ([5, 5, 5], (30, 40), 1065)
    >>> compressed.rebuild().shape, compressed.rebuild(2).dtype
    ((30, 40, 3), dtype('uint8'))
    """

    factors: list
    mode: str
    peak: float

    @property
    def shape(self):
        """(height, width) of the image."""
        U, _, Vt = self.factors[0]
        return U.shape[0], Vt.shape[1]

    @property
    def ranks(self):
        """The rank of each channel."""
        return [len(s) for _, s, _ in self.factors]

    def stored_numbers(self, rank=None) -> int:
        """Numbers kept at ``rank`` (default: each channel's own): Σ k(m + n + 1)."""
        m, n = self.shape
        return sum(_cut(k, rank) * (m + n + 1) for k in self.ranks)

    def stored_bytes(self, rank=None) -> int:
        """Bytes of the factors as saved: U and Vᵀ in float16, σ in float32."""
        m, n = self.shape
        return sum(_cut(k, rank) * (2 * (m + n) + 4) for k in self.ranks)

    def compression_ratio(self, rank=None) -> float:
        """Pixels over stored numbers, ``mn·channels / Σ k(m + n + 1)``."""
        m, n = self.shape
        return m * n * len(self.factors) / self.stored_numbers(rank)

    def rebuild(self, rank=None) -> np.ndarray:
        """Pixels rebuilt from the top ``rank`` triplets, rounded and clipped.

        Parameters
        ----------
        rank : int, default=None
            Use at most this many triplets per channel; all if None.

        Returns
        -------
        pixels : ndarray of shape (height, width, channels)
            uint8, or uint16 for 16-bit images.
        """
        dtype = np.uint16 if self.peak > 255 else np.uint8
        channels = []
        for U, s, Vt in self.factors:
            k = _cut(len(s), rank)
            U32, Vt32 = U[:, :k].astype(np.float32), Vt[:k].astype(np.float32)
            channels.append(dot(U32 * s[:k].astype(np.float32), Vt32))
        pixels = np.stack(channels, axis=-1)
        return np.clip(np.rint(pixels), 0, self.peak).astype(dtype)

    def to_image(self, rank=None) -> Image.Image:
        """The rebuilt image as a Pillow image in :attr:`mode`."""
        pixels = self.rebuild(rank)
        # Pillow infers L / I;16, LA, RGB and RGBA from the dtype and channels.
        return Image.fromarray(pixels[:, :, 0] if pixels.shape[-1] == 1 else pixels)

    def save(self, path) -> int:
        """Write the factors to ``.npz`` (float16 U, Vᵀ; float32 σ); return its size.

        Parameters
        ----------
        path : str or path-like
            The file to write.

        Returns
        -------
        n_bytes : int
            The size of the file on disk.
        """
        arrays = {"mode": np.array(self.mode), "peak": np.array(self.peak)}
        for i, (U, s, Vt) in enumerate(self.factors):
            arrays[f"U{i}"] = U.astype(np.float16)
            arrays[f"s{i}"] = s.astype(np.float32)
            arrays[f"Vt{i}"] = Vt.astype(np.float16)
        with open(path, "wb") as file:
            np.savez(file, **arrays)
        return Path(path).stat().st_size

    @classmethod
    def load(cls, path) -> CompressedImage:
        """Read factors written by :meth:`save`, checking them.

        Raises
        ------
        ImageError
            Naming the file, if it is missing, a directory, not an ``.npz``
            archive of factors (empty, truncated, a plain ``.npy``), or if
            its factors are inconsistent or not finite.
        """
        path = _existing_file(path, "a compressed image file")
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            reason = str(exc) or type(exc).__name__
            raise ImageError(
                f"{path}: not a compressed image file ({reason})"
            ) from None
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ImageError(
                f"{path}: not a compressed image file (a single array, not the "
                ".npz archive of factors that CompressedImage.save writes)"
            )
        try:
            with data:
                n = sum(1 for key in data.files if key.startswith("s"))
                factors = [
                    (data[f"U{i}"], data[f"s{i}"], data[f"Vt{i}"]) for i in range(n)
                ]
                mode, peak = str(data["mode"]), float(data["peak"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ImageError(f"{path}: not a compressed image file ({exc})") from None
        problem = _factor_problem(factors, mode, peak)
        if problem:
            raise ImageError(f"{path}: damaged compressed image: {problem}")
        return cls(factors, mode, peak)


_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "I;16": 1}


def _factor_problem(factors, mode, peak):
    """What is wrong with loaded factors, or an empty string."""
    if mode not in _CHANNELS:
        return f"mode {mode!r} is not one of {sorted(_CHANNELS)}"
    if not (np.isfinite(peak) and peak in (255.0, 65535.0)):
        return f"peak {peak!r} is not 255 or 65535"
    if len(factors) != _CHANNELS[mode]:
        return f"{len(factors)} channel(s) for mode {mode} ({_CHANNELS[mode]})"
    shapes = set()
    for i, (U, s, Vt) in enumerate(factors):
        if U.ndim != 2 or s.ndim != 1 or Vt.ndim != 2:
            return f"channel {i}: U, s, Vt are not matrices and a vector"
        if not U.shape[1] == s.shape[0] == Vt.shape[0]:
            return f"channel {i}: shapes {U.shape}, {s.shape}, {Vt.shape} disagree"
        for name, array in (("U", U), ("s", s), ("Vt", Vt)):
            if not np.all(np.isfinite(array)):
                return f"channel {i}: {name} holds NaN or infinity"
        if np.any(s < 0):
            return f"channel {i}: a negative singular value"
        shapes.add((U.shape[0], Vt.shape[1]))
    if len(shapes) > 1:
        return f"channels of different sizes {sorted(shapes)}"
    return ""


def _cut(k, rank):
    return k if rank is None else min(k, rank)


def compress(image, n_components, *, algorithm="auto", random_state=0):
    """Compress an image channel by channel with truncated SVD.

    Parameters
    ----------
    image : PIL.Image.Image, path or ndarray
        An image, a file, or pixels (height, width[, channels]) in 0–255.
    n_components : int or float
        The rank of every channel, or a fraction of each channel's energy
        (see :class:`~skla.TruncatedSVDCompressor`).
    algorithm : str or object, default="auto"
        The SVD solver.
    random_state : int, RandomState instance or None, default=0
        Seeds the solver.

    Returns
    -------
    compressed : CompressedImage

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> pixels = np.outer(rng.integers(1, 10, 60), rng.integers(1, 25, 80))  # rank 1
    >>> small = compress(pixels, 1)
    >>> small.ranks, round(small.compression_ratio(), 1)
    ([1], 34.0)
    >>> np.array_equal(small.rebuild()[:, :, 0], pixels)  # exact after rounding
    True
    """
    if isinstance(image, (str, Path)):
        image = load_image(image)
    if isinstance(image, Image.Image):
        pixels, mode, peak = to_array(image)
    else:
        pixels = np.asarray(image, dtype=np.float32)
        pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels
        mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[-1]]
        peak = 255.0
    factors = []
    for c in range(pixels.shape[-1]):
        svd = TruncatedSVDCompressor(
            n_components, algorithm=algorithm, random_state=random_state
        )
        channel = np.ascontiguousarray(pixels[:, :, c])
        Z = svd.fit_transform(channel)
        s = svd.singular_values_
        U = Z / np.where(s > 0, s, 1)
        factors.append((U, s, svd.components_))
    return CompressedImage(factors, mode, peak)


def jpeg_at_size(image: Image.Image, n_bytes: int):
    """The best JPEG of ``image`` that fits in ``n_bytes``, for comparison.

    Searches the quality setting (1–95) by bisection.

    Parameters
    ----------
    image : PIL.Image.Image
        An "L" or "RGB" image (others are converted to RGB).
    n_bytes : int
        The byte budget.

    Returns
    -------
    quality : int or None
        The highest quality that fits; None if even quality 1 does not.
    size : int
        Its size in bytes (that of quality 1 if nothing fits).
    rebuilt : ndarray or None
        The decoded JPEG's pixels (height, width, channels).

    Examples
    --------
    >>> from PIL import Image
    >>> from sklearn.datasets import load_sample_image
    >>> photo = Image.fromarray(load_sample_image("china.jpg"))
    >>> quality, size, pixels = jpeg_at_size(photo, 20_000)
    >>> size <= 20_000, pixels.shape
    (True, (427, 640, 3))
    """
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")

    def encode(quality):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        return buffer.getvalue()

    low, high, best = 1, 95, None
    while low <= high:
        quality = (low + high) // 2
        data = encode(quality)
        if len(data) <= n_bytes:
            best, low = (quality, data), quality + 1
        else:
            high = quality - 1
    if best is None:
        return None, len(encode(1)), None
    quality, data = best
    pixels = np.asarray(Image.open(io.BytesIO(data)))
    return quality, len(data), pixels.reshape(*pixels.shape[:2], -1)


def contact_sheet(images, labels, *, width=320, columns=4) -> Image.Image:
    """Thumbnails in a grid, each labelled underneath (the seed's figure).

    Parameters
    ----------
    images : list of PIL.Image.Image
        The panels, e.g. the original and its rank-k rebuilds.
    labels : list of str
        One caption per panel, e.g. ``"n = 8"``.
    width : int, default=320
        Width of each thumbnail in pixels.
    columns : int, default=4
        Panels per row.

    Returns
    -------
    sheet : PIL.Image.Image
        An RGB image.

    Examples
    --------
    >>> from PIL import Image
    >>> panels = [Image.new("L", (40, 30), shade) for shade in (0, 128, 255)]
    >>> sheet = contact_sheet(panels, ["black", "grey", "white"], width=80, columns=3)
    >>> sheet.size[0], sheet.mode
    (240, 'RGB')
    """
    w, h = images[0].size
    height = max(1, round(width * h / w))
    font = ImageFont.load_default(size=max(12, width // 14))
    caption = int(font.size * 1.8)
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * width, rows * (height + caption)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        x, y = (i % columns) * width, (i // columns) * (height + caption)
        # reducing_gap: shrink by whole factors first (fast), then Lanczos.
        thumbnail = image.resize((width, height), Image.LANCZOS, reducing_gap=2.0)
        sheet.paste(thumbnail.convert("RGB"), (x, y))
        draw.text(
            (x + width / 2, y + height + caption / 2),
            label,
            fill="black",
            font=font,
            anchor="mm",
        )
    return sheet
