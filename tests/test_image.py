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
    # Equal up to float32 rounding: U_k = X V_k / σ_k is a product of a
    # different shape at each rank, which may move a pixel across a level.
    sweep = compress(photo, 32, algorithm="full")
    for k in [1, 4, 16]:
        ours = sweep.rebuild(k).astype(int)
        alone = compress(photo, k, algorithm="full").rebuild().astype(int)
        assert np.abs(ours - alone).max() <= 1
        assert np.mean(ours != alone) < 1e-3


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
    # In bytes: 1 byte per 8-bit pixel value against float16 U, Vᵀ and float32 σ.
    assert compressed.pixel_bytes == m * n * 3
    assert compressed.byte_ratio() == pytest.approx(m * n * 3 / (24 * (2 * 280 + 4)))
    assert compressed.byte_ratio(4) == pytest.approx(m * n * 3 / (12 * (2 * 280 + 4)))
    assert compressed.byte_ratio() < compressed.compression_ratio() / 1.9
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
    assert 1 <= quality <= 100
    assert jpeg_at_size(photo, 10)[0] is None


def test_jpeg_at_size_searches_up_to_quality_100(photo):
    def encoded(quality):
        buffer = io.BytesIO()
        photo.save(buffer, format="JPEG", quality=quality)
        return len(buffer.getvalue())

    q95, q100 = encoded(95), encoded(100)
    assert q95 < q100  # above 95 Pillow still spends more bytes
    # A budget between the two: the search goes past 95 and stops below 100.
    quality, size, _ = jpeg_at_size(photo, (q95 + q100) // 2)
    assert 95 < quality < 100
    assert size == encoded(quality) <= (q95 + q100) // 2 < encoded(quality + 1)
    # A budget that holds quality 100 gets quality 100.
    quality, size, pixels = jpeg_at_size(photo, q100)
    assert (quality, size) == (100, q100)
    assert psnr(to_array(photo)[0], pixels) > psnr(
        to_array(photo)[0], jpeg_at_size(photo, q95)[2]
    )


def test_contact_sheet_layout_and_labels(photo):
    sheet = contact_sheet([photo] * 5, [f"n = {k}" for k in range(5)], width=100)
    assert sheet.size[0] == 400
    rows = np.asarray(sheet)
    caption = rows[75:95, 0:100]  # under the first thumbnail (100×75)
    assert (caption < 128).any()  # some dark text
    assert (rows[-5:, 300:400] == 255).all()  # an empty slot stays white


# 16-bit images: storage precision, full-rank rebuilds and display.


def _sixteen_bit_noise(shape=(100, 120), seed=0):
    """A uint16 ramp with noise spanning 0..65535, and it as an I;16 image."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    ramp = 65535 * (rows / (shape[0] - 1) + cols / (shape[1] - 1)) / 2
    pixels = np.rint(np.clip(ramp + rng.normal(0, 3000, shape), 0, 65535))
    pixels = pixels.astype(np.uint16)
    pixels[0, 0], pixels[-1, -1] = 0, 65535
    return pixels, Image.fromarray(pixels)


@pytest.fixture(scope="module")
def deep_photo():
    """The bundled photo (427×640) in 16 bits, with noise in the low bits."""
    gray = load_sample_image("china.jpg").mean(axis=-1) * 257
    noise = np.random.default_rng(0).normal(0, 200, gray.shape)
    pixels = np.rint(np.clip(gray + noise, 0, 65535)).astype(np.uint16)
    return pixels, Image.fromarray(pixels)


def test_sixteen_bit_helpers_are_what_the_tests_assume(deep_photo):
    pixels, image = _sixteen_bit_noise()
    assert (image.mode, image.size) == ("I;16", (120, 100))
    assert (pixels.min(), pixels.max()) == (0, 65535)
    assert deep_photo[1].mode == "I;16"


def test_sixteen_bit_full_rank_rebuild_is_within_a_level(deep_photo, tmp_path):
    # float32 arithmetic in the SVD and float16 factors on disk each cost
    # several levels of 65535 here; the rebuild must be within one.
    pixels, image = deep_photo
    full = compress(image, min(pixels.shape), algorithm="full")
    in_memory = full.rebuild()[:, :, 0].astype(np.int64)
    assert np.abs(in_memory - pixels).max() <= 1
    full.save(tmp_path / "deep.npz")
    loaded = CompressedImage.load(tmp_path / "deep.npz")
    assert np.abs(loaded.rebuild()[:, :, 0].astype(np.int64) - pixels).max() <= 1


@pytest.mark.parametrize("rank", [1, 10, 40])
def test_sixteen_bit_saved_rank_k_matches_the_in_memory_one(tmp_path, rank):
    _, image = _sixteen_bit_noise()
    compressed = compress(image, 40)
    compressed.save(tmp_path / "noise.npz")
    loaded = CompressedImage.load(tmp_path / "noise.npz")
    saved = loaded.rebuild(rank).astype(np.int64)
    assert np.abs(saved - compressed.rebuild(rank).astype(np.int64)).max() <= 1


@pytest.mark.parametrize(("deep", "dtype"), [(False, np.float16), (True, np.float32)])
def test_factor_precision_follows_the_bit_depth(tmp_path, photo, deep, dtype):
    image = _sixteen_bit_noise()[1] if deep else photo.convert("L")
    compressed = compress(image, 6)
    m, n = image.size[1], image.size[0]
    size = compressed.save(tmp_path / "f.npz")
    with np.load(tmp_path / "f.npz") as data:
        assert (data["U0"].dtype, data["Vt0"].dtype) == (dtype, dtype)
        assert data["s0"].dtype == np.float32
    itemsize = np.dtype(dtype).itemsize
    assert compressed.storage_dtype == dtype
    assert compressed.stored_bytes() == 6 * (itemsize * (m + n) + 4)
    assert compressed.stored_bytes(2) == 2 * (itemsize * (m + n) + 4)
    # Five arrays in a zip: some 250 bytes of headers each.
    assert compressed.stored_bytes() < size < compressed.stored_bytes() + 1500
    loaded = CompressedImage.load(tmp_path / "f.npz")
    assert loaded.storage_dtype == dtype
    assert loaded.stored_bytes() == compressed.stored_bytes()
    # Raw pixels: 1 byte per 8-bit value, 2 per 16-bit one.
    assert compressed.pixel_bytes == m * n * (2 if deep else 1)
    assert compressed.byte_ratio() == pytest.approx(
        compressed.pixel_bytes / compressed.stored_bytes()
    )
    assert compressed.compression_ratio() == pytest.approx(m * n / (6 * (m + n + 1)))


def test_sixteen_bit_file_saved_in_float16_still_loads(tmp_path):
    # Files written before the bit-depth rule hold 16-bit factors in float16.
    _, image = _sixteen_bit_noise()
    factors = compress(image, 5).factors
    arrays = {"mode": np.array("I;16"), "peak": np.array(65535.0)}
    U, s, Vt = factors[0]
    arrays.update(U0=U.astype(np.float16), s0=s.astype(np.float32))
    arrays["Vt0"] = Vt.astype(np.float16)
    np.savez(tmp_path / "old.npz", **arrays)
    old = CompressedImage.load(tmp_path / "old.npz")
    assert old.storage_dtype == np.float16
    assert old.stored_bytes() == 5 * (2 * (100 + 120) + 4)
    expected = (U.astype(np.float64) * s) @ Vt.astype(np.float64)
    rebuilt = old.rebuild()[:, :, 0].astype(np.float64)
    assert np.abs(rebuilt - np.clip(expected, 0, 65535)).max() < 200
    old.save(tmp_path / "again.npz")  # stays float16: wider adds only bytes
    with np.load(tmp_path / "again.npz") as data:
        assert data["U0"].dtype == np.float16


def test_factors_that_are_not_floats_are_refused(tmp_path, photo):
    saved = tmp_path / "photo.npz"
    compress(photo, 4).save(saved)
    with np.load(saved) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["U0"] = np.full(arrays["U0"].shape, "x")
    np.savez(tmp_path / "text.npz", **arrays)
    with pytest.raises(ImageError, match=r"text\.npz: damaged .*not floating"):
        CompressedImage.load(tmp_path / "text.npz")


def _thumbnail(sheet, width, height):
    """The first panel of a contact sheet, as grey levels."""
    return np.asarray(sheet.convert("L"), dtype=np.float64)[:height, :width]


@pytest.mark.parametrize("mode", ["I;16", "I"])
def test_sheet_scales_sixteen_bit_thumbnails(mode):
    pixels, image = _sixteen_bit_noise()
    if mode == "I":
        image = image.convert("I")
    before = np.asarray(image).copy()
    # At the image's own width the thumbnail is the image itself, scaled.
    sheet = contact_sheet([image], ["deep"], width=120, columns=1)
    expected = pixels.astype(np.float64) * 255 / 65535
    assert np.abs(_thumbnail(sheet, 120, 100) - expected).max() <= 0.5 + 1e-9
    # Shrunk, the brightness is kept and the panel is not mostly white.
    small = _thumbnail(contact_sheet([image], ["deep"], width=60), 60, 50)
    assert small.mean() == pytest.approx(expected.mean(), abs=2)
    assert (small == 255).mean() < 0.05
    assert_array_equal(np.asarray(image), before)  # the input is untouched


def test_jpeg_at_size_scales_sixteen_bit_images():
    pixels, image = _sixteen_bit_noise()
    quality, size, decoded = jpeg_at_size(image, 8000)
    assert quality is not None
    assert size <= 8000
    assert decoded.shape == (100, 120, 1)
    # JPEG holds 8 bits: 0..65535 scaled to 0..255, not clipped at 255.
    assert decoded.mean() == pytest.approx(pixels.mean() / 257, abs=2)
    assert psnr(pixels, decoded[:, :, 0] * 257.0, 65535) > 25
