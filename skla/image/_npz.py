"""The ``.npz`` file of a compressed image: writing it, reading and checking it.

U and Vᵀ are stored as float16 for 8-bit images and as float32 for deeper
ones (see :func:`storage_dtype`), σ as float32, so the saving is real and
measurable on disk.  Each array keeps its dtype in the archive, so a file
records its own precision and older float16 files of 16-bit images still
load.  A file that is missing, not such an archive, or whose factors are
inconsistent raises :class:`ImageError` naming the file.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._io import _CHANNELS, ImageError, _existing_file

__all__ = ["load_factors", "save_factors", "storage_dtype"]

#: One channel's factors: U (height × k), σ (k,), Vᵀ (k × width).
Factors = tuple[np.ndarray, np.ndarray, np.ndarray]


def storage_dtype(peak: float, factors: Sequence[Factors] = ()) -> np.dtype:
    """The float type U and Vᵀ are saved in: float16 for 8 bits, else float32.

    float16 keeps 11 significant bits: enough for the factors of an image in
    0–255 (a level or two at most), but a 16-bit image's full-rank rebuild
    comes back up to ~55 levels of 65535 off, and float32 brings it within
    one.  Factors that are already float16 -- read from a file written
    before this rule -- stay float16: widening them adds bytes, not digits.

    Parameters
    ----------
    peak : float
        The largest valid pixel value (255, or 65535 for 16-bit images).
    factors : list of (U, s, Vt), optional
        The factors to be saved.

    Returns
    -------
    dtype : numpy.dtype
        ``float16`` or ``float32``.

    Examples
    --------
    >>> storage_dtype(255.0), storage_dtype(65535.0)
    (dtype('float16'), dtype('float32'))
    """
    narrow = all(U.dtype == Vt.dtype == np.float16 for U, _, Vt in factors)
    if peak <= 255 or (factors and narrow):
        return np.dtype(np.float16)
    return np.dtype(np.float32)


def save_factors(
    path: str | os.PathLike[str], factors: Sequence[Factors], mode: str, peak: float
) -> int:
    """Write per-channel ``(U, s, Vt)`` factors to ``path``; return its size.

    U and Vᵀ are written in :func:`storage_dtype`, σ in float32.
    """
    dtype = storage_dtype(peak, factors)
    arrays: dict[str, Any] = {"mode": np.array(mode), "peak": np.array(peak)}
    for i, (U, s, Vt) in enumerate(factors):
        arrays[f"U{i}"] = U.astype(dtype)
        arrays[f"s{i}"] = s.astype(np.float32)
        arrays[f"Vt{i}"] = Vt.astype(dtype)
    with open(path, "wb") as file:
        np.savez(file, **arrays)
    return Path(path).stat().st_size


def load_factors(path: str | os.PathLike[str]) -> tuple[list[Factors], str, float]:
    """``(factors, mode, peak)`` read from a file :func:`save_factors` wrote.

    Raises
    ------
    ImageError
        Naming the file, if it is missing, a directory, not an ``.npz``
        archive of factors, or if its factors are inconsistent or not finite.
    """
    path = _existing_file(path, "a compressed image file")
    factors, mode, peak = _read_archive(path, _open_archive(path))
    problem = _factor_problem(factors, mode, peak)
    if problem:
        raise ImageError(f"{path}: damaged compressed image: {problem}")
    return factors, mode, peak


def _open_archive(path: Path) -> Any:
    """``np.load(path)`` if it is an ``.npz`` archive, else an ImageError."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        reason = str(exc) or type(exc).__name__
        raise ImageError(f"{path}: not a compressed image file ({reason})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ImageError(
            f"{path}: not a compressed image file (a single array, not the "
            ".npz archive of factors that CompressedImage.save writes)"
        )
    return data


def _read_archive(path: Path, data: Any) -> tuple[list[Factors], str, float]:
    """The factors, mode and peak in an open archive; closes it."""
    try:
        with data:
            n = sum(1 for key in data.files if key.startswith("s"))
            factors = [(data[f"U{i}"], data[f"s{i}"], data[f"Vt{i}"]) for i in range(n)]
            mode, peak = str(data["mode"]), float(data["peak"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ImageError(f"{path}: not a compressed image file ({exc})") from None
    return factors, mode, peak


def _factor_problem(factors: Sequence[Factors], mode: str, peak: float) -> str:
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
        if not all(np.issubdtype(a.dtype, np.floating) for a in (U, s, Vt)):
            return f"channel {i}: U, s, Vt are not floating-point numbers"
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
