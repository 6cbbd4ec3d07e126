"""Measuring a rebuild: its PSNR, and the best JPEG that fits the same bytes."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image

from ._io import _eight_bit

__all__ = ["jpeg_at_size", "psnr"]

#: The highest quality Pillow's JPEG encoder accepts.  Pillow advises against
#: going above 95 (100 turns quantisation nearly off: files grow fast for a
#: fraction of a dB), but a byte budget that allows it should get it -- on the
#: seed's photo q95 takes 141794 bytes and q100 262559, both under the 410496
#: of the rank-64 factors.
MAX_QUALITY = 100


def psnr(original: ArrayLike, rebuilt: ArrayLike, peak: float = 255.0) -> float:
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


def jpeg_at_size(
    image: Image.Image, n_bytes: int
) -> tuple[int | None, int, np.ndarray | None]:
    """The best JPEG of ``image`` that fits in ``n_bytes``, for comparison.

    Searches Pillow's whole quality range, 1–100, by bisection (Pillow's
    default 4:2:0 chroma subsampling).  Above 95 the file grows fast for
    little gain, but when the budget allows it that is still the best JPEG.

    Parameters
    ----------
    image : PIL.Image.Image
        An "L" or "RGB" image.  JPEG holds 8 bits, so 16-bit and 32-bit
        integer images ("I;16", "I") are coded as "L" scaled from 0–65535 to
        0–255 (multiply the decoded pixels by 257 to compare them); others
        are converted to RGB.
    n_bytes : int
        The byte budget.

    Returns
    -------
    quality : int or None
        The highest quality that fits; None if even quality 1 does not.
    size : int
        Its size in bytes (that of quality 1 if nothing fits).
    rebuilt : ndarray or None
        The decoded JPEG's pixels (height, width, channels), in 0–255.

    Examples
    --------
    >>> from PIL import Image
    >>> from sklearn.datasets import load_sample_image
    >>> photo = Image.fromarray(load_sample_image("china.jpg"))
    >>> quality, size, pixels = jpeg_at_size(photo, 20_000)
    >>> size <= 20_000, pixels.shape
    (True, (427, 640, 3))
    """
    image = _eight_bit(image)
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")

    def encode(quality: int) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        return buffer.getvalue()

    low, high = 1, MAX_QUALITY
    best: tuple[int, bytes] | None = None
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
