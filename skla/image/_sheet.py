"""The contact sheet: thumbnails of an image and its rebuilds, labelled."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

__all__ = ["contact_sheet"]


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
