"""`python -m gan_jax.generate`: samples (.npz, PNGs), numbered grids, interpolations, latent
arithmetic on a real tiny MLP run; the .npz read back by `gan_jax.evaluate` and the npz data
source; parsing; one-line errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_jax import evaluate, generate, input_pipeline, sampling
from gan_jax.errors import UserError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cli(*args, timeout=300):
  return subprocess.run([sys.executable, "-m", "gan_jax.generate", *args], cwd=REPO,
                        capture_output=True, text=True, timeout=timeout)


def _assert_one_line_error(result, text):
  assert result.returncode == 2, result.stderr[-2000:]
  assert "Traceback" not in result.stderr
  last = result.stderr.strip().splitlines()[-1]
  assert last.startswith("error: ") and text in last, last


# Parsing.

def test_parse_expression():
  assert generate.parse_expression("3,7,12 - 5,9 + 20", seed=0) == [
      (1, [(0, 3), (0, 7), (0, 12)]), (-1, [(0, 5), (0, 9)]), (1, [(0, 20)])]
  assert generate.parse_expression("- 1:4 + class:T-shirt/top", seed=2) == [
      (-1, [(1, 4)]), (1, "T-shirt/top")]
  assert generate.parse_expression(" class:Ankle boot ", seed=0) == [(1, "Ankle boot")]


@pytest.mark.parametrize("expression, message", [
    ("3-5", "'3-5' is not a term; write terms of sample indices"),
    ("3 + ", "empty term"),
    ("3 + x", "'x' is not a term"),
    ("class: - 4", "names no class"),
    ("", "empty term"),
])
def test_parse_expression_errors(expression, message):
  with pytest.raises(UserError, match=message):
    generate.parse_expression(expression, seed=0)


def test_parse_pairs_and_classes():
  assert generate.parse_pairs("3-17, 1:5-2:5", seed=4) == [((4, 3), (4, 17)), ((1, 5), (2, 5))]
  with pytest.raises(UserError, match="'3' is not a pair"):
    generate.parse_pairs("3", seed=0)
  assert generate.class_index("fashion_mnist", "ankle BOOT") == 9
  assert generate.class_index("fashion_mnist", "tshirt top") == 0
  assert generate.class_index("mnist", "7") == 7
  with pytest.raises(UserError, match="the classes are: T-shirt/top, Trouser"):
    generate.class_index("fashion_mnist", "hat")
  with pytest.raises(UserError, match="this run's dataset is 'food101'"):
    generate.class_index("food101", "pizza")


# The commands on a real run.

def test_cli_writes_npz_that_evaluate_and_the_npz_source_read(tiny_run, tmp_path):
  workdir, _ = tiny_run
  out = tmp_path / "samples.npz"
  result = _cli(f"--workdir={workdir}", "--num=120", "--batch_size=50", f"--out={out}")
  assert result.returncode == 0, result.stderr[-3000:]
  assert f"sample: checkpoint step 6 (weights) -> {out}" in result.stdout
  with np.load(out) as archive:
    assert archive.files == ["images"]
    images = archive["images"]
  assert images.shape == (120, 28, 28, 1) and images.dtype == np.uint8
  # The same samples as the library gives for seed 0 (another batch size: at most rounding).
  expected = sampling.sample(sampling.load_generator(workdir), 120, seed=0, batch_size=50)
  np.testing.assert_array_equal(images, expected)
  assert not os.path.exists(str(out).replace(".npz", ".partial.npz"))

  # Into the evaluation, as --samples.
  evaluation = evaluate.run_evaluation(samples=str(out), dataset="fashion_mnist",
                                       num_reference=500)
  assert evaluation.record["num_samples"] == 120
  assert evaluation.record["metrics"]["class_coverage"]["num_samples"] == 120

  # Into training data, through the npz source: the same pixels, scaled to the value range.
  for value_range in ((0.0, 1.0), (-1.0, 1.0)):
    train_input = input_pipeline.create_train_input(
        {"name": "generated", "source": "npz", "path": str(out), "image_key": "images",
         "value_range": value_range}, 120, seed=0, process_index=0, process_count=1)
    assert train_input.info.num_examples == 120
    batch = next(iter(train_input.batches(0)))["image"]
    low, high = value_range
    pixels = np.round((batch - low) / (high - low) * 255).astype(np.uint8)
    # One epoch in one batch: the same images in a shuffled order.
    np.testing.assert_array_equal(np.sort(pixels.reshape(120, -1), axis=0),
                                  np.sort(images.reshape(120, -1), axis=0))


def test_evaluate_reads_an_image_array_too(tmp_path):
  np.savez(tmp_path / "s.npz", image=np.zeros((20, 28, 28, 1), np.uint8))
  assert len(evaluate.load_samples(str(tmp_path / "s.npz"))) == 20


# What the base install (setup.cfg's install_requires, no `train` extra) lacks.
NOT_IN_THE_BASE_INSTALL = ("tensorflow", "tensorflow_datasets", "clu", "ml_collections",
                           "matplotlib", "tensorboard", "mlxtend")


def test_cli_runs_with_only_the_base_install(tiny_run, tmp_path):
  """The packages of the `train` extra made unimportable, as in a venv of `pip install gan_jax`."""
  workdir, _ = tiny_run
  out = tmp_path / "base.npz"
  code = ("import runpy, sys\n"
          f"for name in {NOT_IN_THE_BASE_INSTALL!r}:\n"
          "  sys.modules[name] = None\n"
          f"sys.argv = ['generate', '--workdir={workdir}', '--num=5', '--out={out}']\n"
          "runpy.run_module('gan_jax.generate', run_name='__main__')\n")
  result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  with np.load(out) as samples:
    assert samples["images"].shape == (5, 28, 28, 1) and samples["images"].dtype == np.uint8


def test_png_folder_holds_the_same_samples(tiny_run, tmp_path):
  workdir, _ = tiny_run
  result = generate.run_sample(workdir, str(tmp_path / "pngs") + "/", num=5, seed=3,
                               batch_size=4)
  files = sorted(os.listdir(result["out"]))
  assert files == [f"{i:06d}.png" for i in range(5)]
  expected = sampling.sample(sampling.load_generator(workdir), 5, seed=3, batch_size=4)
  for i, name in enumerate(files):
    np.testing.assert_array_equal(np.asarray(Image.open(os.path.join(result["out"], name))),
                                  expected[i, ..., 0])


def test_numbered_grid(tiny_run, tmp_path):
  workdir, _ = tiny_run
  result = generate.run_grid(workdir, str(tmp_path / "grid.png"), num=6, seed=1, scale=2,
                             step=3)
  assert result["step"] == 3
  grid = np.asarray(Image.open(result["out"]))
  # 6 samples: 3 rows x 2 columns of 56-pixel tiles with 2-pixel padding, RGB for the labels.
  assert grid.shape == (3 * 58 + 2, 2 * 58 + 2, 3)
  samples = sampling.sample(sampling.load_generator(workdir, step=3), 6, seed=1)
  # Sample 5 (row 2, column 1), away from its label in the top-left corner.
  tile = grid[2 + 2 * 58:2 + 2 * 58 + 56, 2 + 58:2 + 58 + 56]
  np.testing.assert_array_equal(tile[28:, :, 0], np.kron(samples[5, 14:, :, 0], np.ones((2, 2))))


@pytest.mark.parametrize("method", ["slerp", "linear"])
def test_interpolation_rows_run_from_one_sample_to_the_other(tiny_run, tmp_path, method):
  workdir, _ = tiny_run
  result = generate.run_interpolate(workdir, str(tmp_path / "walk.png"), pairs="3-0,1:2-4",
                                    steps=5, method=method, seed=0, scale=1, gif_frames=6)
  assert result["pairs"] == [((0, 3), (0, 0)), ((1, 2), (0, 4))]
  grid = np.asarray(Image.open(result["out"]))
  assert grid.shape == (2 * 30 + 2, 5 * 30 + 2)
  tile = lambda r, c: grid[2 + 30 * r:30 * (r + 1), 2 + 30 * c:30 * (c + 1)]
  generator = sampling.load_generator(workdir)
  seed0 = sampling.sample(generator, 5, seed=0)[..., 0]
  seed1 = sampling.sample(generator, 3, seed=1)[..., 0]
  # Endpoints are the samples themselves (up to one grey level from float rounding in slerp).
  for (r, c), expected in {(0, 0): seed0[3], (0, 4): seed0[0], (1, 0): seed1[2],
                           (1, 4): seed0[4]}.items():
    assert np.abs(tile(r, c).astype(int) - expected).max() <= 1
  assert not np.array_equal(tile(0, 2), tile(0, 0))
  with Image.open(result["gif"]) as gif:
    assert gif.n_frames == 2 * 6 - 2  # There and back without repeating the ends.


def test_interpolation_default_rows_and_gif(tiny_run, tmp_path):
  workdir, _ = tiny_run
  result = generate.run_interpolate(workdir, str(tmp_path / "w.png"), rows=3, steps=4, scale=2,
                                    gif_frames=3)
  assert result["pairs"] == [((0, 0), (0, 1)), ((0, 2), (0, 3)), ((0, 4), (0, 5))]
  assert np.asarray(Image.open(result["out"])).shape == (3 * 58 + 2, 4 * 58 + 2)
  with Image.open(result["gif"]) as gif:
    assert gif.n_frames == 4 and gif.size == (2 * 58 + 2, 2 * 58 + 2)


def _tile(picture, row, col, size):
  """Tile (row, col) of a `labelled_rows` picture: one label column of one tile width."""
  top, left = 2 + row * (size + 2), size + 2 + col * (size + 2)
  return picture[top:top + size, left:left + size, 0]


def test_arithmetic_by_index(tiny_run, tmp_path):
  workdir, _ = tiny_run
  result = generate.run_arithmetic(workdir, str(tmp_path / "sum.png"), "3,7 - 5 + 1:2",
                                   seed=0, scale=1, num_variants=4)
  assert [(sign, refs) for sign, refs, _ in result["terms"]] == [
      (1, [(0, 3), (0, 7)]), (-1, [(0, 5)]), (1, [(1, 2)])]
  picture = np.asarray(Image.open(result["out"]))
  # Rows: 3 terms and the result; columns: label, 2 exemplars, a gap, the mean image.
  assert picture.shape == (4 * 30 + 2, 28 + 5 * 30 + 2, 3)
  generator = sampling.load_generator(workdir)
  z = lambda seed, i: np.asarray(sampling.latents(seed, [i], generator.latent_dim))[0]
  images_of = lambda latents: sampling.to_uint8(
      generator, sampling.generate(generator, np.stack(latents)))[..., 0]
  expected_result = (z(0, 3) + z(0, 7)) / 2 - z(0, 5) + z(1, 2)
  result_image, mean_image, exemplar = images_of(
      [expected_result, (z(0, 3) + z(0, 7)) / 2, z(0, 7)])
  assert np.abs(_tile(picture, 3, 0, 28).astype(int) - result_image).max() <= 1
  assert np.abs(_tile(picture, 0, 3, 28).astype(int) - mean_image).max() <= 1
  np.testing.assert_array_equal(_tile(picture, 0, 1, 28), exemplar)
  # Variants: 4 neighbours after the result, none equal to it.
  assert not np.array_equal(_tile(picture, 3, 1, 28), _tile(picture, 3, 0, 28))


def test_arithmetic_by_class_uses_the_classifier(tiny_run, tmp_path):
  workdir, _ = tiny_run
  generator = sampling.load_generator(workdir)
  classes, probabilities = sampling.classify_samples(generator, "fashion_mnist", 200, seed=0)
  common = int(np.bincount(classes, minlength=10).argmax())
  name = sampling.class_names("fashion_mnist")[common]
  result = generate.run_arithmetic(workdir, str(tmp_path / "c.png"), f"class:{name} - 0",
                                   seed=0, scale=1, class_samples=2, pool=200)
  chosen, _ = sampling.most_confident(classes, probabilities, common, 2)
  assert result["terms"][0][1] == [(0, int(i)) for i in chosen]
  assert result["terms"][0][2].startswith(f"class:{name} = samples ")
  rare = int(np.bincount(classes, minlength=10).argmin())
  with pytest.raises(UserError, match=r"Raise --pool or lower --class_samples"):
    generate.run_arithmetic(workdir, str(tmp_path / "c.png"),
                            f"class:{sampling.class_names('fashion_mnist')[rare]}", seed=0,
                            class_samples=201, pool=200)


@pytest.mark.slow  # Two fresh processes, each importing TensorFlow and restoring: 25-45 s here.
def test_cli_interpolate_and_arithmetic(tiny_run, tmp_path):
  workdir, _ = tiny_run
  result = _cli("interpolate", f"--workdir={workdir}", f"--out={tmp_path}/i.png", "--rows=2",
                "--steps=3", "--gif_frames=2", "--method=linear")
  assert result.returncode == 0, result.stderr[-3000:]
  assert os.path.exists(tmp_path / "i.png") and os.path.exists(tmp_path / "i.gif")
  assert f"GIF: {tmp_path}/i.gif" in result.stdout
  result = _cli("arithmetic", f"--workdir={workdir}", f"--out={tmp_path}/a.png",
                "--expression=3,7 - 5", "--num_variants=2")
  assert result.returncode == 0, result.stderr[-3000:]
  assert "  + samples 3, 7\n  - samples 5\n" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--out=x.npz"], "--workdir is required"),
    (["arithmetic", "--out=x.png"], "--workdir is required"),
    (["paint", "--workdir=w", "--out=x.png"], "Unknown command 'paint'"),
    (["--workdir=w", "--out=x.txt"], "give an .npz file"),
    (["--nmu=3"], "Unknown command line flag 'nmu'"),
    (["grid", "--workdir=w", "--out=x.npz"], "give a .png file for this command"),
])
def test_cli_usage_errors(args, message):
  _assert_one_line_error(_cli(*args), message)


def test_cli_errors_about_the_run_and_the_output(tiny_run, tmp_path):
  workdir, _ = tiny_run
  empty = tmp_path / "empty"
  empty.mkdir()
  (empty / "config.json").write_text(json.dumps({"data": {"name": "fashion_mnist"}}))
  _assert_one_line_error(_cli(f"--workdir={empty}", f"--out={tmp_path}/s.npz"),
                         "has no checkpoints yet")
  _assert_one_line_error(_cli(f"--workdir={tmp_path}/none", f"--out={tmp_path}/s.npz"),
                         "has no config.json")
  (tmp_path / "file").write_text("")
  _assert_one_line_error(_cli(f"--workdir={workdir}", f"--out={tmp_path}/file/s.npz"),
                         "is not writable")
  _assert_one_line_error(
      _cli("arithmetic", f"--workdir={workdir}", f"--out={tmp_path}/a.png", "--expression=3-5"),
      "'3-5' is not a term")
  _assert_one_line_error(
      _cli("arithmetic", f"--workdir={workdir}", f"--out={tmp_path}/a.png",
           "--expression=class:hat"), "class:hat is not a fashion_mnist class")
  _assert_one_line_error(_cli(f"--workdir={workdir}", f"--out={tmp_path}/s.npz", "--step=4"),
                         "--step=4: ")


def test_label_and_classes_commands_on_a_conditional_run(tiny_conditional_run, tmp_path):
  workdir, _ = tiny_conditional_run
  out = str(tmp_path / "class3.npz")
  result = generate.run_command("sample", {"workdir": workdir, "out": out, "seed": 0,
                                           "step": None, "num": 5, "batch_size": 500,
                                           "label": 3})
  assert result["ema"]
  generator = sampling.load_generator(workdir)
  np.testing.assert_array_equal(np.load(out)["images"],
                                sampling.sample(generator, 5, seed=0, label=3))
  result = _cli("classes", f"--workdir={workdir}", f"--out={tmp_path / 'classes.png'}",
                "--num=3", "--scale=1")
  assert result.returncode == 0, result.stderr[-2000:]
  assert "(EMA weights)" in result.stdout
  picture = np.asarray(Image.open(tmp_path / "classes.png"))
  assert picture.shape[0] == 10 * (28 + 2) + 2  # One row per class.
  # Interpolation needs a class (and works with one); a class the run does not have is refused.
  with pytest.raises(UserError, match="class-conditional \\(10 classes\\): give --label=K"):
    generate.run_interpolate(workdir, str(tmp_path / "walk.png"), rows=1, gif_frames=2)
  generate.run_interpolate(workdir, str(tmp_path / "walk.png"), rows=1, gif_frames=2, label=9)
  with pytest.raises(UserError, match="--label=10 is invalid: this generator has classes 0 .. 9"):
    generate.run_sample(workdir, str(tmp_path / "x.npz"), num=2, label=10)


def test_classes_command_needs_a_conditional_run(tiny_run, tmp_path):
  with pytest.raises(UserError, match="not class-conditional"):
    generate.run_classes(tiny_run[0], str(tmp_path / "c.png"))
