"""skla.image: loading, per-channel compression, storage, PSNR and contact sheets."""

import io

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image
from sklearn.datasets import load_sample_image

from skla.image import (
    CompressedImage,
    ImageError,
    compress,
    contact_sheet,
    jpeg_at_size,
    load_image,
    psnr,
    to_array,
)


@pytest.fixture(scope="module")
def photo():
    """A 120×160 crop of the bundled photo, RGB."""
    return Image.fromarray(load_sample_image("china.jpg")[100:220, 200:360])


@pytest.mark.parametrize(
    ("mode", "expected", "channels", "peak"),
    [
        ("L", "L", 1, 255),
        ("1", "L", 1, 255),
        ("LA", "LA", 2, 255),
        ("RGB", "RGB", 3, 255),
        ("RGBA", "RGBA", 4, 255),
        ("P", "RGB", 3, 255),
        ("CMYK", "RGB", 3, 255),
        ("YCbCr", "RGB", 3, 255),
        ("I;16", "I;16", 1, 65535),
    ],
)
def test_modes_round_trip_at_full_rank(photo, mode, expected, channels, peak):
    image = photo.convert(mode) if mode != "I;16" else _sixteen_bit(photo)
    pixels, got, got_peak = to_array(image)
    assert (got, pixels.shape[-1], got_peak) == (expected, channels, peak)
    full = compress(image, min(image.size), algorithm="full")
    assert_array_equal(full.rebuild(), pixels.astype(full.rebuild().dtype))
    rebuilt = full.to_image()
    assert rebuilt.size == image.size
    assert rebuilt.mode == expected


def _sixteen_bit(photo):
    pixels = np.asarray(photo.convert("L"), dtype=np.uint16) * 257
    return Image.fromarray(pixels)


def test_palette_with_transparency_keeps_alpha(photo):
    image = photo.convert("P")
    image.info["transparency"] = 0
    assert to_array(image)[1] == "RGBA"


def test_rank_sweep_from_one_factorisation_equals_separate_fits(photo):
    sweep = compress(photo, 32, algorithm="full")
    for k in [1, 4, 16]:
        assert_array_equal(
            sweep.rebuild(k), compress(photo, k, algorithm="full").rebuild()
        )


def test_error_is_eckart_young_per_channel(photo):
    pixels = to_array(photo)[0].astype(np.float64)
    compressed = compress(photo, 10)
    rebuilt_float = np.stack(
        [(U * s) @ Vt for U, s, Vt in compressed.factors], axis=-1
    ).astype(np.float64)
    for c in range(3):
        s = np.linalg.svd(pixels[:, :, c], compute_uv=False)
        optimum = np.sqrt(np.sum(s[10:] ** 2))
        error = np.linalg.norm(pixels[:, :, c] - rebuilt_float[:, :, c])
        assert error <= 1.01 * optimum


def test_psnr_matches_its_formula(photo):
    pixels = to_array(photo)[0]
    rebuilt = compress(photo, 8).rebuild()
    mse = np.mean((pixels - rebuilt.astype(np.float64)) ** 2)
    assert psnr(pixels, rebuilt) == pytest.approx(10 * np.log10(255**2 / mse))
    assert psnr(pixels, pixels) == np.inf


def test_storage_counts_and_saved_file(photo, tmp_path):
    compressed = compress(photo, 8)
    m, n = 120, 160
    assert compressed.stored_numbers() == 3 * 8 * (m + n + 1)
    assert compressed.stored_bytes(4) == 3 * 4 * (2 * (m + n) + 4)
    assert compressed.compression_ratio() == pytest.approx(m * n * 3 / (24 * 281))
    size = compressed.save(tmp_path / "f.npz")
    assert compressed.stored_bytes() < size < compressed.stored_bytes() + 3000
    assert size < m * n * 3  # smaller than the raw pixels
    loaded = CompressedImage.load(tmp_path / "f.npz")
    assert loaded.mode == "RGB"
    assert loaded.ranks == [8, 8, 8]
    # float16 factors cost at most a grey level here and there.
    diff = np.abs(loaded.rebuild().astype(int) - compressed.rebuild().astype(int))
    assert diff.max() <= 2


def test_energy_fraction_per_channel(photo):
    compressed = compress(photo, 0.99)
    for (_, s, _), c in zip(compressed.factors, range(3), strict=True):
        channel = to_array(photo)[0][:, :, c].astype(np.float64)
        exact = np.linalg.svd(channel, compute_uv=False)
        energy = np.cumsum(exact**2) / np.sum(exact**2)
        assert len(s) == np.searchsorted(energy, 0.99) + 1


def test_load_errors_name_the_file(tmp_path, photo):
    with pytest.raises(ImageError, match=r"missing\.png: no such file"):
        load_image(tmp_path / "missing.png")
    text = tmp_path / "notes.txt"
    text.write_text("not pixels")
    with pytest.raises(ImageError, match=r"notes\.txt: not an image"):
        load_image(text)
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match=r"broken\.jpg: truncated or damaged"):
        load_image(broken)
    with pytest.raises(ImageError, match="not a compressed image"):
        CompressedImage.load(text)
    with pytest.raises(ImageError, match=r": is a directory, not an image file"):
        load_image(tmp_path)


def test_compressed_image_load_refuses_what_save_did_not_write(tmp_path, photo):
    saved = tmp_path / "photo.npz"
    compress(photo, 4).save(saved)
    data = saved.read_bytes()
    cases = {
        "empty.npz": b"",
        "truncated.npz": data[: len(data) // 2],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "plain.npy", np.zeros(3))
    for name in [*cases, "plain.npy"]:
        with pytest.raises(ImageError, match=rf"{name}: not a compressed image"):
            CompressedImage.load(tmp_path / name)
    with pytest.raises(ImageError, match="is a directory"):
        CompressedImage.load(tmp_path)
    with pytest.raises(ImageError, match="no such file"):
        CompressedImage.load(tmp_path / "missing.npz")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"s0": np.array([1.0, np.nan, 0.5, 0.1])}, "NaN or infinity"),
        ({"U1": np.full((120, 4), np.inf)}, "NaN or infinity"),
        ({"s0": np.array([1.0, -2.0, 0.5, 0.1])}, "negative singular value"),
        ({"peak": np.array(-1.0)}, "peak -1.0 is not 255 or 65535"),
        ({"mode": np.array("XYZ")}, "mode 'XYZ'"),
        ({"Vt2": np.zeros((3, 160))}, "disagree"),
    ],
)
def test_damaged_factors_are_refused(tmp_path, photo, change, message):
    saved = tmp_path / "photo.npz"
    compress(photo, 4).save(saved)
    with np.load(saved) as data:
        arrays = {key: data[key] for key in data.files}
    arrays.update(change)
    damaged = tmp_path / "damaged.npz"
    np.savez(damaged, **arrays)
    with pytest.raises(ImageError, match=rf"damaged\.npz: damaged .*{message}"):
        CompressedImage.load(damaged)


def test_decompression_bomb_guard_stays_on(tmp_path, photo, monkeypatch):
    path = tmp_path / "big.png"
    photo.save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # the photo is 19200 px
    with pytest.raises(Image.DecompressionBombError):
        load_image(path)


def test_jpeg_at_size_respects_the_budget(photo):
    quality, size, pixels = jpeg_at_size(photo, 6000)
    assert size <= 6000
    assert pixels.shape == (120, 160, 3)
    assert 1 <= quality <= 95
    assert jpeg_at_size(photo, 10)[0] is None


def test_contact_sheet_layout_and_labels(photo):
    sheet = contact_sheet([photo] * 5, [f"n = {k}" for k in range(5)], width=100)
    assert sheet.size[0] == 400
    rows = np.asarray(sheet)
    caption = rows[75:95, 0:100]  # under the first thumbnail (100×75)
    assert (caption < 128).any()  # some dark text
    assert (rows[-5:, 300:400] == 255).all()  # an empty slot stays white
