"""The example scripts of docs/api.md run as written (tiny settings), against this checkout."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_jax import sampling

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, *args):
  # PYTHONPATH: this checkout's gan_jax, whatever copy the environment has installed.
  env = {**os.environ, "PYTHONPATH": REPO}
  return subprocess.run([sys.executable, os.path.join(REPO, "examples", script), *args],
                        cwd=REPO, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.slow  # A fresh Python process training and evaluating: 40-70 s here.
def test_train_in_a_script(tmp_path):
  out = tmp_path / "grid.png"
  result = _run("train_in_a_script.py", "--steps=4", "--small", "--batch_size=16",
                "--data_parallel", "--eval_samples=100", f"--out={out}")
  assert result.returncode == 0, result.stderr[-3000:]
  assert "generator: 56,688 numbers, discriminator: 52,353" in result.stdout
  assert "step 4: d_loss " in result.stdout and "4 steps in " in result.stdout
  assert "evaluation: class_kl_reference " in result.stdout and " fd " in result.stdout
  assert np.asarray(Image.open(out)).shape == (8 * 30 + 2, 8 * 30 + 2)


@pytest.mark.slow
def test_latent_tools(tiny_run, tmp_path):
  workdir, _ = tiny_run
  # A 6-step generator draws few classes: take the ones it draws most often.
  classes, _ = sampling.classify_samples(sampling.load_generator(workdir), "fashion_mnist", 200)
  counts = np.bincount(classes, minlength=10)
  drawn = [c for c in np.argsort(-counts, kind="stable") if counts[c] >= 2]
  names = sampling.class_names("fashion_mnist")
  plus, minus, base = (names[c] for c in (drawn * 3)[:3])
  result = _run("latent_tools.py", f"--workdir={workdir}", f"--out_dir={tmp_path}",
                f"--plus={plus}", f"--minus={minus}", f"--base={base}", "--per_class=2",
                "--pool=200")
  assert result.returncode == 0, result.stderr[-3000:]
  assert f"{workdir}: step 6, latent_dim 100, trained weights" in result.stdout
  assert f"+ {plus}: samples " in result.stdout and "= classified as: [" in result.stdout
  assert np.asarray(Image.open(tmp_path / "samples.png")).shape == (4 * 30 + 2, 4 * 30 + 2)
  assert np.asarray(Image.open(tmp_path / "interpolation.png")).shape == (32, 8 * 30 + 2)
  assert np.asarray(Image.open(tmp_path / "arithmetic.png")).shape == (4 * 30 + 2, 28 + 62, 3)
