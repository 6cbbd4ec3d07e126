"""Per-channel rank-k compression and the :class:`CompressedImage` it returns.

Each channel keeps its own spectrum and rank and costs :math:`k(m + n + 1)`
numbers; the factors of rank k contain every smaller rank, so a whole rank
sweep rebuilds from one factorisation.  Factors are saved with U and Vᵀ in
float16 for 8-bit images and in float32 for 16-bit ones, σ in float32.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image

from .._algorithms._linalg import dot
from ..decomposition import TruncatedSVDCompressor
from ._io import _pixels
from ._npz import Factors, load_factors, save_factors, storage_dtype

__all__ = ["CompressedImage", "compress"]


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
    >>> compressed.storage_dtype, compressed.stored_bytes()  # 15·(2·70 + 4)
    (dtype('float16'), 2160)
    >>> round(compressed.compression_ratio(), 2), round(compressed.byte_ratio(), 2)
    (3.38, 1.67)
    """

    factors: list[Factors]
    mode: str
    peak: float

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the image."""
        U, _, Vt = self.factors[0]
        return U.shape[0], Vt.shape[1]

    @property
    def ranks(self) -> list[int]:
        """The rank of each channel, in channel order (e.g. R, G, B)."""
        return [len(s) for _, s, _ in self.factors]

    def _total_rank(self, rank: int | None) -> int:
        """Σ k over the channels, each channel's k cut at ``rank``."""
        return sum(_cut(k, rank) for k in self.ranks)

    def stored_numbers(self, rank: int | None = None) -> int:
        """Numbers kept at ``rank`` (default: each channel's own): Σ k(m + n + 1)."""
        m, n = self.shape
        return self._total_rank(rank) * (m + n + 1)

    @property
    def storage_dtype(self) -> np.dtype:
        """The float type :meth:`save` writes U and Vᵀ in.

        float16 for 8-bit images, float32 for 16-bit ones (float16 would put
        their rebuild tens of levels off); factors loaded from an older
        float16 file stay float16.
        """
        return storage_dtype(self.peak, self.factors)

    def stored_bytes(self, rank: int | None = None) -> int:
        """Bytes of the factors as saved: U, Vᵀ in :attr:`storage_dtype`, σ float32.

        ``Σ k(b(m + n) + 4)`` with ``b`` the item size of :attr:`storage_dtype`:
        the arrays' contents, without the ``.npz`` archive's headers.
        """
        m, n = self.shape
        itemsize = self.storage_dtype.itemsize
        return self._total_rank(rank) * (itemsize * (m + n) + 4)

    @property
    def pixel_bytes(self) -> int:
        """Bytes of the raw pixels: ``mn·channels``, times 2 for 16-bit images."""
        m, n = self.shape
        return m * n * len(self.factors) * (2 if self.peak > 255 else 1)

    def compression_ratio(self, rank: int | None = None) -> float:
        """Pixel values over stored numbers, ``mn·channels / Σ k(m + n + 1)``.

        A ratio of counts, not of bytes: see :meth:`byte_ratio`.
        """
        m, n = self.shape
        return m * n * len(self.factors) / self.stored_numbers(rank)

    def byte_ratio(self, rank: int | None = None) -> float:
        """Raw pixel bytes over stored bytes, ``pixel_bytes / stored_bytes(rank)``.

        An 8-bit pixel takes 1 byte and its factors are stored in float16
        (2 bytes a number), so this is about half :meth:`compression_ratio`.
        """
        return self.pixel_bytes / self.stored_bytes(rank)

    def rebuild(self, rank: int | None = None) -> np.ndarray:
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

    def to_image(self, rank: int | None = None) -> Image.Image:
        """The rebuilt image as a Pillow image in :attr:`mode`."""
        pixels = self.rebuild(rank)
        # Pillow infers L / I;16, LA, RGB and RGBA from the dtype and channels.
        return Image.fromarray(pixels[:, :, 0] if pixels.shape[-1] == 1 else pixels)

    def save(self, path: str | os.PathLike[str]) -> int:
        """Write the factors to ``.npz``; return its size.

        U and Vᵀ are written in :attr:`storage_dtype` (float16 for 8-bit
        images, float32 for 16-bit ones), σ in float32.

        Parameters
        ----------
        path : str or path-like
            The file to write.

        Returns
        -------
        n_bytes : int
            The size of the file on disk.
        """
        return save_factors(path, self.factors, self.mode, self.peak)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CompressedImage:
        """Read factors written by :meth:`save`, checking them.

        Raises
        ------
        ImageError
            Naming the file, if it is missing, a directory, not an ``.npz``
            archive of factors (empty, truncated, a plain ``.npy``), or if
            its factors are inconsistent or not finite.
        """
        return cls(*load_factors(path))


def _cut(k: int, rank: int | None) -> int:
    """``k`` triplets cut at ``rank`` (None: all of them)."""
    return k if rank is None else min(k, rank)


def compress(
    image: Image.Image | str | os.PathLike[str] | ArrayLike,
    n_components: float,
    *,
    algorithm: Any = "auto",
    random_state: int | np.random.RandomState | None = 0,
) -> CompressedImage:
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
    pixels, mode, peak = _pixels(image)
    # float32 arithmetic leaves a 16-bit image's full-rank rebuild a few
    # levels of 65535 off; float64 keeps it within one.
    dtype = np.float64 if peak > 255 else np.float32
    factors = []
    for c in range(pixels.shape[-1]):
        svd = TruncatedSVDCompressor(
            n_components, algorithm=algorithm, random_state=random_state
        )
        channel = np.ascontiguousarray(pixels[:, :, c], dtype=dtype)
        Z = svd.fit_transform(channel)
        s = svd.singular_values_
        U = Z / np.where(s > 0, s, 1)
        factors.append((U, s, svd.components_))
    return CompressedImage(factors, mode, peak)
