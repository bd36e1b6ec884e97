"""`python -m gan_jax.evaluate`: a real tiny MLP run's newest checkpoint, and an .npz of real
Fashion-MNIST test images (FD near the real-vs-real baseline)."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from gan_jax import evaluate, input_pipeline, sampling, train
from gan_jax.errors import UserError
from gan_jax.evaluation import Evaluator
from gan_jax.data import sources

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cli(*flags, timeout=300):
  return subprocess.run([sys.executable, "-m", "gan_jax.evaluate", *flags], cwd=REPO,
                        capture_output=True, text=True, timeout=timeout)


def test_evaluates_the_newest_checkpoint_of_a_run(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  trained = train.train_and_evaluate(tiny_config, workdir)  # 6 steps, checkpoints at 3 and 6

  result = evaluate.run_evaluation(workdir=workdir, num_samples=600, num_reference=1000)
  assert result.record["checkpoint_step"] == 6 and result.record["num_samples"] == 600
  assert result.record["reference"]["split"] == "test (random 1000 of 10000, seed 0)"
  assert result.record["reference"]["num_images"] == 1000
  # 6 steps of training: far from the data, but a number.
  assert np.isfinite(result.scalars["fd"]) and result.scalars["fd"] > 100
  record_path = os.path.join(workdir, "evaluation", "step_000006.json")
  with open(record_path) as f:
    assert json.load(f)["metrics"]["fd"]["value"] == result.scalars["fd"]
  assert os.path.exists(record_path.replace(".json", "_class_histogram.png"))
  assert "fd " in evaluate.format_table(result)

  # The samples come from the checkpoint's parameters, not from a fresh initialisation.
  assert result.record["ema_weights"] is False
  restored, step, _ = sampling.restore_state(workdir)
  assert step == 6
  for a, b in zip(jax.tree_util.tree_leaves(restored.generator.params),
                  jax.tree_util.tree_leaves(trained.generator.params)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

  # An older checkpoint by --step.
  older = evaluate.run_evaluation(workdir=workdir, num_samples=600, num_reference=1000, step=3,
                                  output=str(tmp_path / "step3.json"))
  assert older.record["checkpoint_step"] == 3 and older.scalars["fd"] != result.scalars["fd"]


def test_cli_on_real_test_images_is_near_the_real_baseline(tmp_path):
  train_arrays = sources.load_arrays("fashion_mnist", "train")
  test_arrays = sources.load_arrays("fashion_mnist", "test")
  samples = tmp_path / "real.npz"
  np.savez(samples, images=test_arrays.images[:2000])
  output = tmp_path / "record.json"
  result = _cli(f"--samples={samples}", "--dataset=fashion_mnist", "--reference_split=train",
                "--num_reference=2000", f"--output={output}")
  assert result.returncode == 0, result.stderr[-3000:]
  assert "fd " in result.stdout and "classes_covered" in result.stdout
  with open(output) as f:
    record = json.load(f)
  fd = record["metrics"]["fd"]["value"]
  assert record["metrics"]["fd"]["num_samples"] == 2000
  assert record["reference"]["split"] == "train (random 2000 of 60000, seed 0)"

  # Baseline: two other disjoint real sets of the same sizes.
  baseline = Evaluator("fashion_mnist", train_arrays.images[-2000:], num_samples=2000,
                       kid_num_subsets=10).evaluate_samples(test_arrays.images[-2000:])
  assert fd < 1.5 * baseline.scalars["fd"]
  assert record["metrics"]["class_coverage"]["classes_covered"] == 10


def test_float_samples_use_the_value_range(tmp_path):
  images = np.random.default_rng(0).uniform(-1, 1, size=(50, 28, 28, 1)).astype(np.float32)
  np.savez(tmp_path / "s.npz", images=images)
  result = evaluate.run_evaluation(samples=str(tmp_path / "s.npz"), dataset="mnist",
                                   value_range=("-1", "1"), num_reference=500)
  assert result.record["value_range"] == [-1.0, 1.0]
  assert result.record["reference"]["split"] == "train (random 500 of 5000, seed 0)"


@pytest.mark.parametrize("kwargs, message", [
    (dict(), "Pass --workdir=<run folder> or --samples=<file.npz>"),
    (dict(workdir="/nonexistent/run"), "has no config.json"),
    (dict(samples="/nonexistent.npz", dataset="mnist"), "is not a file"),
])
def test_user_errors(kwargs, message):
  with pytest.raises(UserError, match=message):
    evaluate.run_evaluation(**kwargs)


def test_npz_without_images(tmp_path):
  np.savez(tmp_path / "x.npz", pixels=np.zeros(3))
  with pytest.raises(UserError, match=r"has no `images` array \(it has \['pixels'\]\)"):
    evaluate.run_evaluation(samples=str(tmp_path / "x.npz"), dataset="mnist")


def test_run_without_checkpoints(tmp_path):
  (tmp_path / "config.json").write_text(json.dumps({"data": {"name": "toy2d_ring8"}}))
  with pytest.raises(UserError, match="has no checkpoints yet"):
    evaluate.run_evaluation(workdir=str(tmp_path))


def test_cli_error_is_one_line(tmp_path):
  result = _cli(f"--workdir={tmp_path}")
  assert result.returncode == 2 and "Traceback" not in result.stderr
  assert result.stderr.strip().splitlines()[-1].startswith("error: --workdir=")


def test_evaluates_a_conditional_run_on_uniform_classes_with_its_ema(tiny_conditional_run,
                                                                     tmp_path):
  workdir, _ = tiny_conditional_run
  result = evaluate.run_evaluation(workdir=workdir, num_samples=200, num_reference=300,
                                   output=str(tmp_path / "conditional.json"))
  assert result.record["ema_weights"] is True and result.record["checkpoint_step"] == 6
  assert np.isfinite(result.scalars["fd"])
