"""The training loop and main.py: outputs, resume after a kill, and one-line errors."""

import glob
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from gan_jax import input_pipeline, train
from gan_jax.errors import UserError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "configs", "default.py")
TINY_FLAGS = ["--config.batch_size=16", "--config.log_every_steps=2",
              "--config.sample_every_steps=3", "--config.num_sample_images=16"]


def _checkpoint_steps(workdir):
  return sorted(int(os.path.basename(p)) for p in glob.glob(f"{workdir}/checkpoints/*")
                if os.path.basename(p).isdigit())


def _main(workdir, *flags, timeout=300):
  return subprocess.run(
      [sys.executable, "main.py", f"--config={CONFIG}", f"--workdir={workdir}", *flags],
      cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_train_and_evaluate_writes_checkpoints_samples_and_summaries(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  state = train.train_and_evaluate(tiny_config, workdir)
  assert int(state.step) == 6
  assert _checkpoint_steps(workdir) == [3, 6]
  samples = sorted(os.listdir(os.path.join(workdir, "samples")))
  assert samples == ["step_000000.png", "step_000003.png", "step_000006.png", "training.gif"]
  assert glob.glob(os.path.join(workdir, "events.out.tfevents.*"))
  assert os.path.exists(os.path.join(workdir, "config.json"))

  # Same workdir, same config, more steps: continues from step 6 instead of starting over.
  tiny_config.num_train_steps = 8
  state = train.train_and_evaluate(tiny_config, workdir)
  assert int(state.step) == 8 and _checkpoint_steps(workdir) == [3, 6, 8]


def test_resume_after_kill_continues_from_the_saved_step(tiny_config, tmp_path):
  """SIGKILL a real run after its first checkpoints; the resumed run matches an uninterrupted one."""
  workdir = str(tmp_path / "killed")
  process = subprocess.Popen(
      [sys.executable, "main.py", f"--config={CONFIG}", f"--workdir={workdir}",
       "--config.num_train_steps=100000", "--config.checkpoint_every_steps=4",
       "--config.keep_checkpoints=100", *TINY_FLAGS],
      cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    deadline = time.time() + 240
    while len(_checkpoint_steps(workdir)) < 2 and time.time() < deadline:
      time.sleep(0.2)
  finally:
    process.send_signal(signal.SIGKILL)
    process.wait()
  saved = _checkpoint_steps(workdir)
  assert len(saved) >= 2, "the run wrote no checkpoints before the deadline"
  resume_from = saved[-1]

  tiny_config.num_train_steps = resume_from + 3
  tiny_config.checkpoint_every_steps = 4
  resumed = train.train_and_evaluate(tiny_config, workdir)
  uninterrupted = train.train_and_evaluate(tiny_config, str(tmp_path / "uninterrupted"))
  assert int(resumed.step) == int(uninterrupted.step) == resume_from + 3
  for a, b in zip(jax.tree_util.tree_leaves(resumed), jax.tree_util.tree_leaves(uninterrupted)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_cli_tiny_run_writes_checkpoint_sample_and_events(tmp_path):
  workdir = tmp_path / "cli"
  result = _main(workdir, "--config.num_train_steps=4", "--config.checkpoint_every_steps=2",
                 *TINY_FLAGS)
  assert result.returncode == 0, result.stderr[-3000:]
  assert _checkpoint_steps(workdir) == [2, 4]
  assert (workdir / "samples" / "step_000004.png").exists()
  assert (workdir / "samples" / "training.gif").exists()
  assert glob.glob(str(workdir / "events.out.tfevents.*"))
  assert "fashion_mnist/train: 60000 images" in result.stderr  # the log names the source


@pytest.mark.parametrize("flag, message", [
    ("--config.data.name=cifar", "config.data.name='cifar' is invalid"),
    ("--config.optimizer.generator_learning_rate=-0.1",
     "config.optimizer.generator_learning_rate=-0.1 is invalid: it must be a positive number"),
])
def test_cli_bad_input_is_one_line_without_traceback(tmp_path, flag, message):
  result = _main(tmp_path / "bad", flag)
  assert result.returncode == 2
  assert "Traceback" not in result.stderr
  error_lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert len(error_lines) == 1 and message in error_lines[0], result.stderr[-2000:]


@pytest.mark.parametrize("field, value, message", [
    ("data.name", "cifar", "config.data.name='cifar' is invalid: choose one of"),
    ("batch_size", 0, "config.batch_size=0 is invalid: it must be a positive integer"),
    ("batch_size", -8, "config.batch_size=-8 is invalid"),
    ("batch_size", 15, "config.batch_size=15 is invalid: it must be divisible by the number of "
     "devices (2)"),
    ("optimizer.discriminator_learning_rate", 0.0,
     "config.optimizer.discriminator_learning_rate=0.0 is invalid"),
    ("optimizer.generator_learning_rate", -2e-4,
     "config.optimizer.generator_learning_rate=-0.0002 is invalid"),
    ("generator_loss", "wasserstein", "config.generator_loss='wasserstein' is invalid"),
    ("num_train_steps", 0, "config.num_train_steps=0 is invalid"),
])
def test_bad_config_values(tiny_config, tmp_path, field, value, message):
  node = tiny_config
  *parents, leaf = field.split(".")
  for parent in parents:
    node = node[parent]
  with node.ignore_type():
    node[leaf] = value
  with pytest.raises(UserError) as e:
    train.train_and_evaluate(tiny_config, str(tmp_path / "run"))
  assert message in str(e.value)
  assert not os.path.exists(tmp_path / "run"), "validation must run before anything is written"


def test_unwritable_workdir(tiny_config, tmp_path):
  blocker = tmp_path / "a_file"
  blocker.write_text("not a folder")
  with pytest.raises(UserError, match="is not writable"):
    train.train_and_evaluate(tiny_config, str(blocker / "run"))


def test_missing_data(tiny_config, tmp_path, monkeypatch):
  monkeypatch.setitem(input_pipeline.DEBIAN_IDX_DIRS, "fashion_mnist", str(tmp_path / "none"))
  tiny_config.data.data_dir = str(tmp_path)
  with pytest.raises(UserError, match="No data found for dataset 'fashion_mnist'"):
    train.train_and_evaluate(tiny_config, str(tmp_path / "run"))


def test_incompatible_checkpoint_is_refused(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  tiny_config.num_train_steps = 3
  train.train_and_evaluate(tiny_config, workdir)
  tiny_config.num_train_steps = 6
  tiny_config.model.generator_features = (128, 256, 512)
  with pytest.raises(UserError, match="does not match this config's model"):
    train.train_and_evaluate(tiny_config, workdir)
  assert _checkpoint_steps(workdir) == [3], "the old checkpoint must survive"


def test_non_finite_loss_stops_without_saving(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  tiny_config.optimizer.discriminator_learning_rate = 1e30
  tiny_config.optimizer.generator_learning_rate = 1e30
  with pytest.raises(UserError, match="Non-finite training metrics at step 2"):
    train.train_and_evaluate(tiny_config, workdir)
  assert _checkpoint_steps(workdir) == []
