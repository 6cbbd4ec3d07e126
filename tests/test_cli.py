"""The command line: output, exit codes, and no tracebacks."""

import subprocess
import sys

import numpy as np
import pytest

from skla import _cli


def test_demo_compares_every_solver_with_lstsq(capsys):
    assert _cli.main([]) == 0
    out = capsys.readouterr().out
    solvers = {"auto", "gram", "lsqr", "qr", "svd"}
    rows = [
        row
        for row in map(str.split, out.splitlines())
        if row[:1] in ([s] for s in solvers)
    ]
    assert {row[0] for row in rows} == solvers
    for row in rows:
        assert float(row[2]) < 1e-10  # relative error vs numpy.linalg.lstsq
        assert float(row[3]) == pytest.approx(0.5177, abs=1e-4)  # R² on diabetes


def test_python_dash_m_runs_the_demo():
    done = subprocess.run(
        [sys.executable, "-m", "skla", "demo"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "numpy.linalg.lstsq" in done.stdout


def test_errors_are_one_line_without_traceback(monkeypatch, capsys):
    def boom(args):
        raise ValueError("something is wrong with the input")

    monkeypatch.setattr(_cli, "_demo", boom)
    assert _cli.main(["demo"]) == 1
    err = capsys.readouterr().err
    assert err == "skla: error: ValueError: something is wrong with the input\n"


def test_unknown_command_exits_nonzero():
    done = subprocess.run(
        [sys.executable, "-m", "skla", "nonsense"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "invalid choice" in done.stderr


def test_compress_writes_the_sheet_images_and_factors(tmp_path, capsys):
    assert _cli.main(["compress", "--ranks", "1", "8", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ["china_ranks.png", "china_rank1.png", "china_rank8.png"]:
        assert (tmp_path / name).is_file()
    assert (tmp_path / "china_svd.npz").stat().st_size < 427 * 640 * 3
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["8"]]
    _, ratio, byte_ratio, ours = rows[0][:4]
    assert float(ratio) == pytest.approx(
        427 * 640 * 3 / (3 * 8 * (427 + 640 + 1)), abs=0.05
    )
    # 1 byte per pixel value against 2 per float16 number (and float32 σ).
    assert float(byte_ratio) == pytest.approx(
        427 * 640 * 3 / (3 * 8 * (2 * (427 + 640) + 4)), abs=0.05
    )
    assert 15 < float(ours) < 30  # PSNR in dB
    assert "JPEG wins at" in out


def test_compress_a_file_by_rank_and_by_energy(tmp_path, capsys):
    from PIL import Image

    rng = np.random.default_rng(0)
    path = tmp_path / "small.png"
    Image.fromarray(rng.integers(0, 255, (40, 50), dtype=np.uint8)).save(path)
    assert _cli.main(["compress", str(path), "-k", "5", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "small_rank5.png").is_file()
    assert (
        _cli.main(["compress", str(path), "--energy", "0.9", "--out", str(tmp_path)])
        == 0
    )
    assert "small:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compress", "README.md"], "README.md: not an image file"),
        (["compress", "--energy", "1.5"], "--energy must be a fraction"),
        (["compress", "-k", "5000"], "rank 5000 exceeds min(height, width) = 427"),
        (["compress", "nothing.png"], "nothing.png: no such file"),
        (["compress", "docs"], "docs: is a directory, not an image file"),
        (["compress", "--algorithm", "bogus"], "--algorithm must be one of"),
    ],
)
def test_compress_errors_are_one_line(args, message, tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "skla", *args, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1
    assert message in errors[0]


def test_bad_arguments_touch_nothing_on_disk(tmp_path):
    out = tmp_path / "new"
    assert _cli.main(["compress", "--algorithm", "bogus", "--out", str(out)]) == 1
    assert _cli.main(["compress", "nothing.png", "--out", str(out)]) == 1
    assert not out.exists()


def test_sixteen_bit_table_describes_the_saved_factors(tmp_path, capsys):
    from PIL import Image

    from skla.image import CompressedImage, psnr, to_array

    # A smooth 16-bit gradient of rank 2: its float32 factors rebuild it
    # exactly at rank 2, so rank 1 is shown, which leaves a finite PSNR.
    rows, cols = np.mgrid[0:60, 0:80]
    pixels = (20000 + 300 * rows + 200 * cols).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(pixels).save(path)
    assert _cli.main(["compress", str(path), "-k", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["1"])
    printed_svd, printed_jpeg = float(row[3]), float(row[-1])
    saved = CompressedImage.load(tmp_path / "deep_svd.npz")
    original = to_array(Image.open(path))[0]
    assert printed_svd == pytest.approx(
        psnr(original, saved.rebuild(1), 65535), abs=0.01
    )
    assert np.isfinite(printed_svd)
    # JPEG is 8-bit: compared, times 257, with the 16-bit original.
    assert np.isfinite(printed_jpeg)
    assert 30 < printed_jpeg < 70


def _gradient_png(path, deep):
    """A noisy ramp saved as 16-bit (deep) or 8-bit grayscale PNG; its pixels."""
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:60, 0:80]
    ramp = (rows / 59 + cols / 79) / 2 + rng.normal(0, 0.05, rows.shape)
    peak, dtype = (65535, np.uint16) if deep else (255, np.uint8)
    pixels = np.rint(np.clip(ramp, 0, 1) * peak).astype(dtype)
    from PIL import Image

    Image.fromarray(pixels).save(path)
    return pixels


def _footnote(out):
    return next(line for line in out.splitlines() if line.startswith("bytes:"))


@pytest.mark.parametrize(("deep", "precision"), [(True, "float32"), (False, "float16")])
def test_compress_says_which_precision_it_saved(tmp_path, capsys, deep, precision):
    _gradient_png(tmp_path / "ramp.png", deep)
    out_dir = tmp_path / "out"
    args = ["compress", str(tmp_path / "ramp.png"), "-k", "3", "--out", str(out_dir)]
    assert _cli.main(args) == 0
    out = capsys.readouterr().out
    footnote = _footnote(out)
    assert f"U and Vᵀ in {precision}" in footnote
    other = {"float32": "float16", "float16": "float32"}[precision]
    assert f"U and Vᵀ in {other}" not in footnote
    with np.load(out_dir / "ramp_svd.npz") as data:
        assert data["U0"].dtype == data["Vt0"].dtype == np.dtype(precision)
    # The table's bytes are those of the precision saved, 3·(b(m + n) + 4).
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["3"])
    assert int(row[5]) == 3 * (np.dtype(precision).itemsize * (60 + 80) + 4)


def test_compress_help_states_the_precision_rule(capsys):
    with pytest.raises(SystemExit):
        _cli.main(["compress", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(.npz, float16)" not in text
    assert "float16 for 8-bit images" in text
    assert "float32" in text


def test_sixteen_bit_contact_sheet_is_scaled_not_clipped(tmp_path, capsys):
    from PIL import Image

    pixels = _gradient_png(tmp_path / "deep.png", deep=True)
    args = ["compress", str(tmp_path / "deep.png"), "-k", "2", "--out", str(tmp_path)]
    assert _cli.main(args) == 0
    capsys.readouterr()
    sheet = np.asarray(Image.open(tmp_path / "deep_ranks.png").convert("L"), float)
    height = round(320 * 60 / 80)  # panels are 320 pixels wide
    rebuilt = np.asarray(Image.open(tmp_path / "deep_rank2.png"), dtype=float)
    panels = [(sheet[:height, :320], pixels), (sheet[:height, 320:640], rebuilt)]
    for panel, source in panels:
        assert panel.mean() == pytest.approx(source.mean() * 255 / 65535, abs=3)
        assert (panel == 255).mean() < 0.05


def _table(out):
    """The table's header (two lines) and rows, each split into its columns."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "(numbers)" in line) - 1
    end = lines.index("", start)
    return [line.split() for line in lines[start : start + 2]], [
        line.split() for line in lines[start + 2 : end]
    ]


@pytest.mark.parametrize("deep", [False, True])
def test_both_ratios_in_numbers_and_in_bytes(tmp_path, capsys, deep):
    _gradient_png(tmp_path / "ramp.png", deep)  # 60 × 80, grayscale
    args = ["compress", str(tmp_path / "ramp.png"), "--ranks", "2", "5"]
    assert _cli.main([*args, "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    (above, below), rows = _table(out)
    assert above == ["ratio", "ratio"]
    assert below[:3] == ["rank", "(numbers)", "(bytes)"]
    m, n, depth = 60, 80, 2 if deep else 1
    itemsize = 4 if deep else 2  # U and Vᵀ in float32 for 16 bits, else float16
    for row in rows:
        k = int(row[0])
        assert float(row[1]) == pytest.approx(m * n / (k * (m + n + 1)), abs=0.05)
        stored = k * (itemsize * (m + n) + 4)  # the bytes column
        assert int(row[5]) == stored
        assert float(row[2]) == pytest.approx(m * n * depth / stored, abs=0.05)
    notes = out.split("\n\n")[2]
    assert "ratio (numbers): pixel values over the numbers stored" in notes
    assert f"ratio (bytes): the raw pixels' bytes ({depth} byte" in notes
    assert "over the bytes column" in notes


def test_rank_64_on_the_photo_reaches_jpeg_quality_100(tmp_path, capsys):
    assert _cli.main(["compress", "-k", "64", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    _, rows = _table(out)
    (row,) = rows
    assert row[:3] == ["64", "4.0", "2.0"]
    assert int(row[5]) == 3 * 64 * (2 * (427 + 640) + 4)  # 410496
    # Quality 100 fits in 410496 bytes: the search no longer stops at 95.
    assert int(row[6]) == 100
    assert int(row[7]) < int(row[5])
    assert "searched over Pillow's 1-100" in out


def _channels_png(path):
    """A 40×50 RGB image whose red channel needs the most triplets, green the
    fewest (plus a little noise), so the ranks are not in sorted order."""
    from PIL import Image

    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:40, 0:50] / 50
    red = 80 * rows + 60 * np.cos(5 * cols) ** 2 + 60 * np.sin(7 * rows * cols)
    green = 200 * rows * cols
    blue = 100 * rows + 100 * np.sin(3 * cols) ** 2
    pixels = np.stack([red, green, blue], axis=-1) + rng.normal(0, 0.5, (40, 50, 3))
    Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8)).save(path)


def test_energy_names_the_rank_of_each_channel(tmp_path, capsys):
    from skla.image import compress, load_image

    path = tmp_path / "channels.png"
    _channels_png(path)
    expected = compress(load_image(path), 0.999).ranks
    assert expected != sorted(expected)  # red needs more than green
    out_dir = tmp_path / "out"
    args = ["compress", str(path), "--energy", "0.999", "--out", str(out_dir)]
    assert _cli.main(args) == 0
    out = capsys.readouterr().out
    label = "/".join(map(str, expected))  # red, green, blue: not sorted
    assert f"rank per channel R/G/B: {label}" in out
    (_, below), rows = _table(out)
    assert below[:2] == ["rank", "R/G/B"]
    assert rows[0][0] == label
    assert f"factors of rank {label} (per channel R/G/B)" in out
    # File names: the ranks joined by "-", no "/" and no directories.
    rebuilt = out_dir / f"channels_rank{'-'.join(map(str, expected))}.png"
    assert rebuilt.is_file()
    assert all(entry.is_file() for entry in out_dir.iterdir())
    assert not any("/" in entry.name for entry in out_dir.iterdir())


def test_energy_on_a_grayscale_image_has_one_rank(tmp_path, capsys):
    _gradient_png(tmp_path / "ramp.png", deep=False)
    args = ["compress", str(tmp_path / "ramp.png"), "--energy", "0.9"]
    assert _cli.main([*args, "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    (_, below), rows = _table(out)
    assert below[:2] == ["rank", "L"]
    assert rows[0][0].isdigit()
    assert f"rank per channel L: {rows[0][0]}" in out
    assert (tmp_path / "out" / f"ramp_rank{rows[0][0]}.png").is_file()


def test_energy_is_printed_as_given(tmp_path, capsys):
    """0.9999 was printed as "keeping 100% of its energy" (3 digits)."""
    _gradient_png(tmp_path / "ramp.png", deep=False)
    args = ["compress", str(tmp_path / "ramp.png"), "--energy", "0.9999"]
    assert _cli.main([*args, "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "99.99% of its energy" in out
    assert "100% of its energy" not in out
