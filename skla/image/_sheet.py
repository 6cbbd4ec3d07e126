"""The contact sheet: thumbnails of an image and its rebuilds, labelled."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from ._io import _eight_bit

__all__ = ["contact_sheet"]


def contact_sheet(
    images: Sequence[Image.Image],
    labels: Sequence[str],
    *,
    width: int = 320,
    columns: int = 4,
) -> Image.Image:
    """Thumbnails in a grid, each labelled underneath (the seed's figure).

    Parameters
    ----------
    images : list of PIL.Image.Image
        The panels, e.g. the original and its rank-k rebuilds.  16-bit and
        32-bit integer panels ("I;16", "I") are scaled from 0–65535 to
        0–255, not clipped.
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
    size = max(12, width // 14)
    font = ImageFont.load_default(size=size)
    caption = int(size * 1.8)
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * width, rows * (height + caption)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        x, y = (i % columns) * width, (i // columns) * (height + caption)
        sheet.paste(_thumbnail(image, (width, height)), (x, y))
        draw.text(
            (x + width / 2, y + height + caption / 2),
            label,
            fill="black",
            font=font,
            anchor="mm",
        )
    return sheet


def _thumbnail(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``image`` as an RGB thumbnail of ``size``, deep pixels scaled to 8 bits."""
    # Made 8-bit RGB before resizing: convert() alone would clip deep pixels
    # at 255, and Pillow resizes palette images with nearest-neighbour only.
    rgb = _eight_bit(image).convert("RGB")
    # reducing_gap: shrink by whole factors first (fast), then Lanczos.
    return rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
