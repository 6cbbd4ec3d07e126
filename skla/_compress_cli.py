"""``python -m skla compress``: the seed's photo experiment from the command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["add_parser"]

SEED_RANKS = [1, 2, 4, 8, 16, 32, 64]


def add_parser(commands) -> None:
    """Add the ``compress`` subcommand to an argparse subparsers object."""
    parser = commands.add_parser(
        "compress",
        help="compress an image with truncated SVD and compare ranks (and JPEG)",
        description=(
            "Rebuild an image from its top singular triplets, channel by channel. "
            "Writes a contact sheet of the ranks, the rebuilt images (PNG) and the "
            "factors of the largest rank (.npz: U and Vᵀ in float16 for 8-bit "
            "images, float32 for 16-bit ones; σ in float32), and prints rank, "
            "compression ratio, PSNR, relative error and the PSNR of a JPEG of "
            "the same size."
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
        help="the smallest rank keeping this fraction of each channel's energy",
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


def _progress(message):
    print(f"skla: {message}", file=sys.stderr, flush=True)


def _source(path):
    """The image and a name for output files."""
    from PIL import Image

    from .image import load_image

    if path is None:
        from sklearn.datasets import load_sample_image

        return Image.fromarray(load_sample_image("china.jpg")), "china"
    return load_image(path), Path(path).stem


def _check(args):
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


def run(args) -> int:
    """Compress, write the files, print the table."""
    from .image import CompressedImage, contact_sheet, to_array

    _check(args)
    image, name = _source(args.image)
    pixels, mode, peak = to_array(image)
    m, n, channels = pixels.shape
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
    rows, panels, labels = [], [image], ["original"]
    for k in ranks:
        shown = compressed.to_image(k)
        label = _rank_label(compressed, k)
        shown.save(out / f"{name}_rank{label.replace('/', '-')}.png")
        panels.append(shown)
        labels.append(f"n = {label}")
        rows.append(_row(compressed, k, label, pixels, peak, jpeg))
    sheet = out / f"{name}_ranks.png"
    contact_sheet(panels, labels, columns=min(4, len(panels))).save(sheet)
    precision = compressed.storage_dtype.name
    _print_table(name, m, n, mode, channels, rows)
    _print_notes(rows, precision)
    print(f"\ncontact sheet: {sheet}")
    print(f"rebuilt images: {out}/{name}_rank*.png")
    print(
        f"factors of rank {_rank_label(compressed, None)}: {npz} "
        f"({npz_bytes} bytes, U and Vᵀ in {precision})"
    )
    return 0


def _ranks(args, limit, name):
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
    return max(ranks), ranks


def _factorise(image, name, pixels, mode, target, algorithm):
    """:func:`~skla.image.compress`, reporting progress and time on stderr."""
    from .image import compress

    m, n, channels = pixels.shape
    _progress(f"{name}: {n}×{m} {mode}, factorising {channels} channel(s)...")
    start = time.perf_counter()
    compressed = compress(image, target, algorithm=algorithm)
    _progress(f"factorised in {time.perf_counter() - start:.2f} s")
    return compressed


def _row(compressed, k, label, pixels, peak, jpeg):
    """The table's row for rank ``k``: the rebuild's figures, then the JPEG's."""
    from .image import jpeg_at_size, psnr

    rebuilt = compressed.rebuild(k)
    error = np.linalg.norm(pixels - rebuilt) / np.linalg.norm(pixels)
    budget = compressed.stored_bytes(k)
    jpeg_source, jpeg_reference, jpeg_scale = jpeg
    quality, jpeg_bytes, decoded = jpeg_at_size(jpeg_source, budget)
    jpeg_psnr = None
    if quality is not None:
        jpeg_psnr = psnr(jpeg_reference, decoded * jpeg_scale, peak)
    ratio = compressed.compression_ratio(k)
    ours = psnr(pixels, rebuilt, peak)
    return label, ratio, ours, error, budget, quality, jpeg_bytes, jpeg_psnr


def _jpeg_setting(image, pixels, peak):
    """What JPEG encodes, what its PSNR is measured against, and its scale.

    JPEG codes 8-bit L or RGB.  An 8-bit image is compared in that mode; a
    16-bit one is coded from its pixels divided by 257 and compared, times
    257, with the 16-bit original -- not clipped to 8 bits by Pillow.
    """
    from PIL import Image

    from .image import to_array

    if peak > 255:
        eight_bit = np.rint(pixels[:, :, 0] / 257).astype(np.uint8)
        return Image.fromarray(eight_bit), pixels, 257.0
    mode = "L" if image.mode in ("L", "1") else "RGB"
    source = image.convert(mode)
    return source, to_array(source)[0], 1.0


def _rank_label(compressed, k):
    """Rank ``k`` as shown; None: each channel's own rank, e.g. "12/15/20"."""
    from .image import _cut

    ranks = sorted({_cut(r, k) for r in compressed.ranks})
    return "/".join(str(r) for r in ranks) if k is None else str(ranks[-1])


def _print_table(name, m, n, mode, channels, rows):
    """The table: one line per rank, the SVD's figures then the JPEG's."""
    pixels = m * n * channels
    print(f"{name}: {n}×{m} {mode} ({pixels} pixel values)\n")
    print(
        f"{'rank':>9} {'ratio':>8} {'PSNR dB':>8} {'rel.err':>8} {'bytes':>9} "
        f"{'JPEG q':>6} {'bytes':>9} {'PSNR dB':>8}"
    )
    for label, ratio, ours, error, budget, quality, jpeg_bytes, theirs in rows:
        if quality is None:
            jpeg = f"{'-':>6} {'(' + str(jpeg_bytes) + ')':>9} {'-':>8}"
        else:
            jpeg = f"{quality:>6} {jpeg_bytes:>9} {theirs:>8.2f}"
        print(f"{label:>9} {ratio:>8.1f} {ours:>8.2f} {error:>8.4f} {budget:>9} {jpeg}")


def _print_notes(rows, precision):
    """The footnote: what the bytes count, and how often JPEG wins.

    ``precision`` is the float type U and Vᵀ were saved in for this image.
    """
    compared = [row for row in rows if row[5] is not None]
    wins = sum(row[7] > row[2] for row in compared)  # JPEG's PSNR over ours
    print(
        f"\nbytes: as saved, U and Vᵀ in {precision} (float16 for 8-bit images, "
        "float32 for 16-bit ones), σ in float32. JPEG q: the best JPEG quality "
        "within the same bytes ('-': even quality 1 is larger, shown in brackets)."
        f"\nJPEG wins at {wins} of {len(compared)} comparable rank(s): it codes "
        "8×8 blocks of frequencies with entropy coding, while a rank-k SVD spends "
        "whole rows and columns of numbers; the SVD is the best rank-k "
        "approximation, not the best image codec."
    )
