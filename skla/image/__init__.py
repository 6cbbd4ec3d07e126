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
* :meth:`CompressedImage.save` writes the factors to ``.npz``, so the saving
  is real and measurable on disk: U and Vᵀ as float16 for 8-bit images and
  as float32 for 16-bit ones (float16 would leave their rebuild tens of
  levels of 65535 off), σ as float32.
* :func:`contact_sheet` and :func:`jpeg_at_size` scale 16-bit pixels to
  0–255 by their peak rather than clipping them at 255.

Pillow's decompression-bomb guard stays on; unreadable, truncated or
non-image files raise :class:`ImageError` naming the file.
"""

# The public names, and private helpers that stay importable from here as
# before the split (the command line uses _existing_file and _cut).
from ._compare import jpeg_at_size, psnr
from ._compress import CompressedImage, compress
from ._compress import _cut as _cut
from ._io import _CHANNELS as _CHANNELS
from ._io import _MODES as _MODES
from ._io import ImageError, load_image, to_array
from ._io import _existing_file as _existing_file
from ._npz import _factor_problem as _factor_problem
from ._sheet import contact_sheet

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
