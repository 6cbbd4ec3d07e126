"""Matrix decompositions: truncated SVD as a compressing transformer."""

from ._truncated_svd import TruncatedSVDCompressor

__all__ = ["TruncatedSVDCompressor"]
