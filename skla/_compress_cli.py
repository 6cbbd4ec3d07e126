"""``python -m skla compress``: the seed's photo experiment from the command line."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

    from .image import CompressedImage

__all__ = ["add_parser", "run"]

SEED_RANKS = [1, 2, 4, 8, 16, 32, 64]

# How the per-channel ranks of --energy are named, in channel order.
_CHANNEL_NAMES = {
    "L": "L",
    "LA": "L/A",
    "RGB": "R/G/B",
    "RGBA": "R/G/B/A",
    "I;16": "L",
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``compress`` subcommand to an argparse subparsers object."""
    parser = commands.add_parser(
        "compress",
        help="compress an image with truncated SVD and compare ranks (and JPEG)",
        description=(
            "Rebuild an image from its top singular triplets, channel by channel. "
            "Writes a contact sheet of the ranks, the rebuilt images (PNG) and the "
            "factors of the largest rank (.npz: U and Vᵀ in float16 for 8-bit "
            "images, float32 for 16-bit ones; σ in float32), and prints rank, "
            "compression ratio in numbers and in bytes, PSNR, relative error and "
            "the PSNR of the best JPEG (quality 1-100) within the same bytes."
        ),
    )
    parser.add_argument(
        "image",
        nargs="?",
        help="the image file (default: scikit-learn's bundled china.jpg)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--ranks",
        type=int,
        nargs="+",
        metavar="K",
        help="ranks to compare, from one factorisation (default: 1 2 4 ... 64)",
    )
    which.add_argument("-k", type=int, metavar="K", help="a single rank")
    which.add_argument(
        "--energy",
        type=float,
        metavar="F",
        help="the smallest rank keeping this fraction of each channel's energy; "
        "each channel gets its own rank, printed per channel (e.g. R/G/B: 9/12/10)",
    )
    parser.add_argument(
        "--out",
        default="skla-out",
        help="directory for the output files (default: ./skla-out)",
    )
    parser.add_argument(
        "--algorithm", default="auto", help="the SVD solver (default: auto)"
    )
    parser.set_defaults(run=run)


def _progress(message: str) -> None:
    print(f"skla: {message}", file=sys.stderr, flush=True)


def _source(path: str | None) -> tuple[Image.Image, str]:
    """The image and a name for output files."""
    from PIL import Image

    from .image import load_image

    if path is None:
        from sklearn.datasets import load_sample_image

        return Image.fromarray(load_sample_image("china.jpg")), "china"
    return load_image(path), Path(path).stem


def _check(args: argparse.Namespace) -> None:
    """Every argument checked before anything is read or written."""
    from .plugins import names

    algorithms = names("svd_solver")
    if args.algorithm not in algorithms:
        raise ValueError(
            f"--algorithm must be one of {', '.join(algorithms)}; "
            f"got {args.algorithm!r}."
        )
    if args.image is not None:
        from .image import _existing_file

        _existing_file(args.image, "an image file")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a directory.")
    if args.k is not None and args.k < 1:
        raise ValueError(f"-k must be a positive rank; got {args.k}.")
    if args.ranks is not None and min(args.ranks) < 1:
        raise ValueError(f"--ranks must be positive; got {args.ranks}.")
    if args.energy is not None and not 0 < args.energy < 1:
        raise ValueError(f"--energy must be a fraction in (0, 1); got {args.energy}.")


def run(args: argparse.Namespace) -> int:
    """Compress, write the files, print the table."""
    from .image import CompressedImage, contact_sheet, to_array

    _check(args)
    image, name = _source(args.image)
    pixels, mode, peak = to_array(image)
    m, n, _ = pixels.shape
    target, ranks = _ranks(args, min(m, n), name)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    compressed = _factorise(image, name, pixels, mode, target, args.algorithm)
    jpeg = _jpeg_setting(image, pixels, peak)
    npz = out / f"{name}_svd.npz"
    npz_bytes = compressed.save(npz)
    # The table describes what was saved: U and Vᵀ rounded to float16 (8-bit
    # images) or float32 (16-bit), whichever storage_dtype chose.
    compressed = CompressedImage.load(npz)
    per_channel = _CHANNEL_NAMES[compressed.mode]
    rows, panels, labels = [], [image], ["original"]
    for k in ranks:
        shown = compressed.to_image(k)
        label = _rank_label(compressed, k)
        shown.save(out / f"{name}_rank{_file_label(label)}.png")
        panels.append(shown)
        labels.append(f"n = {label}" + (f" ({per_channel})" if k is None else ""))
        rows.append(_row(compressed, k, label, pixels, peak, jpeg))
    sheet = out / f"{name}_ranks.png"
    contact_sheet(panels, labels, columns=min(4, len(panels))).save(sheet)
    precision = compressed.storage_dtype.name
    _print_table(name, compressed, rows, args.energy)
    _print_notes(rows, compressed, npz_bytes)
    print(f"\ncontact sheet: {sheet}")
    print(f"rebuilt images: {out}/{name}_rank*.png")
    largest = str(max(compressed.ranks))
    if args.energy is not None:
        largest = f"{_rank_label(compressed, None)} (per channel {per_channel})"
    print(
        f"factors of rank {largest}: {npz} ({npz_bytes} bytes, U and Vᵀ in {precision})"
    )
    return 0


def _ranks(
    args: argparse.Namespace, limit: int, name: str
) -> tuple[float, list[int | None]]:
    """What to factorise at (a rank or an energy fraction) and the ranks to show.

    With ``--energy`` there is one row, each channel at its own rank (None).
    """
    if args.energy is not None:
        return args.energy, [None]
    ranks = sorted(set(args.ranks or ([args.k] if args.k else SEED_RANKS)))
    too_big = [k for k in ranks if k > limit]
    if too_big:
        raise ValueError(
            f"rank {too_big[0]} exceeds min(height, width) = {limit} of {name}."
        )
    return max(ranks), list(ranks)


def _factorise(
    image: Image.Image,
    name: str,
    pixels: np.ndarray,
    mode: str,
    target: float,
    algorithm: str,
) -> CompressedImage:
    """:func:`~skla.image.compress`, reporting progress and time on stderr."""
    from .image import compress

    m, n, channels = pixels.shape
    _progress(f"{name}: {n}×{m} {mode}, factorising {channels} channel(s)...")
    start = time.perf_counter()
    compressed = compress(image, target, algorithm=algorithm)
    _progress(f"factorised in {time.perf_counter() - start:.2f} s")
    return compressed


class _Row(NamedTuple):
    """One line of the table: the rebuild's figures, then the JPEG's."""

    label: str
    ratio: float  # pixel values over stored numbers
    byte_ratio: float  # raw pixel bytes over stored bytes
    psnr: float
    error: float
    budget: int  # bytes of the factors, and the JPEG's budget
    quality: int | None
    jpeg_bytes: int
    jpeg_psnr: float | None


def _row(
    compressed: CompressedImage,
    k: int | None,
    label: str,
    pixels: np.ndarray,
    peak: float,
    jpeg: tuple[Image.Image, np.ndarray, float],
) -> _Row:
    """The table's row for rank ``k``: the rebuild's figures, then the JPEG's."""
    from .image import jpeg_at_size, psnr

    rebuilt = compressed.rebuild(k)
    error = float(np.linalg.norm(pixels - rebuilt) / np.linalg.norm(pixels))
    budget = compressed.stored_bytes(k)
    jpeg_source, jpeg_reference, jpeg_scale = jpeg
    quality, jpeg_bytes, decoded = jpeg_at_size(jpeg_source, budget)
    jpeg_psnr = None
    if decoded is not None:
        jpeg_psnr = psnr(jpeg_reference, decoded * jpeg_scale, peak)
    return _Row(
        label,
        compressed.compression_ratio(k),
        compressed.byte_ratio(k),
        psnr(pixels, rebuilt, peak),
        error,
        budget,
        quality,
        jpeg_bytes,
        jpeg_psnr,
    )


def _jpeg_setting(
    image: Image.Image, pixels: np.ndarray, peak: float
) -> tuple[Image.Image, np.ndarray, float]:
    """What JPEG encodes, what its PSNR is measured against, and its scale.

    JPEG codes 8-bit L or RGB.  An 8-bit image is compared in that mode; a
    16-bit one is coded from its pixels divided by 257 and compared, times
    257, with the 16-bit original -- not clipped to 8 bits by Pillow.
    """
    from .image import to_array
    from .image._io import _eight_bit

    if peak > 255:
        return _eight_bit(image), pixels, 257.0  # pixels / 257, rounded
    mode = "L" if image.mode in ("L", "1") else "RGB"
    source = image.convert(mode)
    return source, to_array(source)[0], 1.0


def _rank_label(compressed: CompressedImage, k: int | None) -> str:
    """Rank ``k`` as shown; None: each channel's own rank in channel order.

    For ``--energy`` on an RGB image, ``"12/20/15"`` is red at rank 12,
    green at 20 and blue at 15 (a grayscale image has one rank).
    """
    from .image import _cut

    if k is None:
        return "/".join(str(r) for r in compressed.ranks)
    return str(max(_cut(r, k) for r in compressed.ranks))


def _file_label(label: str) -> str:
    """A rank label for file names: ``"12/20/15"`` becomes ``"12-20-15"``."""
    return label.replace("/", "-")


def _print_table(
    name: str, compressed: CompressedImage, rows: list[_Row], energy: float | None
) -> None:
    """The table: one line per rank, the SVD's figures then the JPEG's."""
    (m, n), channels = compressed.shape, len(compressed.factors)
    per_channel = _CHANNEL_NAMES[compressed.mode]
    print(
        f"{name}: {n}×{m} {compressed.mode} ({m * n * channels} pixel values, "
        f"{compressed.pixel_bytes} bytes)"
    )
    if energy is not None:
        print(
            f"--energy {energy:g}: each channel at the smallest rank keeping "
            f"{energy * 100:g}% of its energy; rank per channel {per_channel}: "
            f"{rows[0].label}"
        )
    rank = "rank" if energy is None else f"rank {per_channel}"
    width = max(6, len(rank), *(len(row.label) for row in rows))
    print(f"\n{'':>{width}} {'ratio':>9} {'ratio':>8}")
    print(
        f"{rank:>{width}} {'(numbers)':>9} {'(bytes)':>8} {'PSNR dB':>8} "
        f"{'rel.err':>8} {'bytes':>9} {'JPEG q':>6} {'bytes':>9} {'PSNR dB':>8}"
    )
    for row in rows:
        if row.quality is None or row.jpeg_psnr is None:
            jpeg = f"{'-':>6} {'(' + str(row.jpeg_bytes) + ')':>9} {'-':>8}"
        else:
            jpeg = f"{row.quality:>6} {row.jpeg_bytes:>9} {row.jpeg_psnr:>8.2f}"
        print(
            f"{row.label:>{width}} {row.ratio:>9.1f} {row.byte_ratio:>8.1f} "
            f"{row.psnr:>8.2f} {row.error:>8.4f} {row.budget:>9} {jpeg}"
        )


def _print_notes(rows: list[_Row], compressed: CompressedImage, npz_bytes: int) -> None:
    """The footnotes: what the ratios and bytes count, and how often JPEG wins.

    ``npz_bytes`` is the size of the ``.npz`` file of every channel's factors.
    """
    precision = compressed.storage_dtype.name
    itemsize = compressed.storage_dtype.itemsize
    depth = (
        "2 bytes per 16-bit value"
        if compressed.peak > 255
        else "1 byte per 8-bit value"
    )
    headers = npz_bytes - compressed.stored_bytes()
    compared = [(row.jpeg_psnr, row.psnr) for row in rows if row.jpeg_psnr is not None]
    wins = sum(theirs > ours for theirs, ours in compared)
    print(
        "\nratio (numbers): pixel values over the numbers stored, "
        "m·n·channels / Σ k(m + n + 1)."
        f"\nratio (bytes): the raw pixels' bytes ({depth}: "
        f"{compressed.pixel_bytes}) over the bytes column."
        f"\nbytes: as saved, U and Vᵀ in {precision} (float16 for 8-bit images, "
        f"float32 for 16-bit ones), σ in float32: Σ k({itemsize}(m + n) + 4). "
        f"The .npz file adds its archive headers ({headers} bytes here)."
        "\nJPEG q: the best JPEG quality, searched over Pillow's 1-100 (default "
        "4:2:0 chroma subsampling), whose file fits in the same bytes ('-': even "
        "quality 1 is larger, shown in brackets); above 95 the file grows fast "
        "for little PSNR."
        f"\nJPEG wins at {wins} of {len(compared)} comparable rank(s): it codes "
        "8×8 blocks of frequencies with entropy coding, while a rank-k SVD spends "
        "whole rows and columns of numbers; the SVD is the best rank-k "
        "approximation, not the best image codec."
    )
