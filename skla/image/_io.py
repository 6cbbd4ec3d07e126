"""Reading images: files to Pillow images, Pillow images to pixel arrays.

Unreadable, truncated or non-image files raise :class:`ImageError` naming
the file; Pillow's decompression-bomb guard stays on.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image, UnidentifiedImageError

__all__ = ["ImageError", "load_image", "to_array"]

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

# The modes skla rebuilds in and their number of channels.
_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "I;16": 1}


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


def load_image(path: str | os.PathLike[str]) -> Image.Image:
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


def _existing_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a Path if it is a file, else an ImageError saying why."""
    path = Path(path)
    if path.is_dir():
        raise ImageError(f"{path}: is a directory, not {what}")
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    return path


def to_array(image: Image.Image) -> tuple[np.ndarray, str, float]:
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
    return _with_channel_axis(pixels), mode, peak


def _eight_bit(image: Image.Image) -> Image.Image:
    """``image`` for an 8-bit viewer or codec: deeper pixels scaled, not clipped.

    Pillow's ``convert("L")`` or ``convert("RGB")`` clips a 16-bit or 32-bit
    integer image ("I;16", "I") at 255, which turns all but its darkest
    pixels white.  Such an image is read as :func:`to_array` reads it and
    scaled by its peak (65535) to an "L" image in 0–255; any other image is
    returned as it is.

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image
    >>> deep = Image.fromarray(np.array([[0, 257, 32896, 65535]], dtype=np.uint16))
    >>> shown = _eight_bit(deep)
    >>> shown.mode, np.asarray(shown).tolist()
    ('L', [[0, 1, 128, 255]])
    """
    if _MODES.get(image.mode) != "I;16":
        return image
    pixels, _, peak = to_array(image)
    levels = np.rint(pixels[:, :, 0] * (255.0 / peak)).astype(np.uint8)
    return Image.fromarray(levels)


def _pixels(
    image: Image.Image | str | os.PathLike[str] | ArrayLike,
) -> tuple[np.ndarray, str, float]:
    """An image, an image file or an array of pixels as (pixels, mode, peak).

    An array (height, width[, channels]) holds 0–255 values in "L", "LA",
    "RGB" or "RGBA" by its number of channels.
    """
    if isinstance(image, (str, os.PathLike)):
        image = load_image(image)
    if isinstance(image, Image.Image):
        return to_array(image)
    pixels = _with_channel_axis(np.asarray(image, dtype=np.float32))
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[-1]]
    return pixels, mode, 255.0


def _with_channel_axis(pixels: np.ndarray) -> np.ndarray:
    """A grayscale (height, width) array as (height, width, 1); others as given."""
    return pixels[:, :, None] if pixels.ndim == 2 else pixels
