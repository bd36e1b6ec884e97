"""The training loop and main.py: outputs, resume after a kill, and one-line errors."""

import dataclasses
import glob
import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
from PIL import Image

from gan_jax import input_pipeline, train
from gan_jax.data import catalog
from gan_jax.errors import UserError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "configs", "test.py")
# configs/test.py is `tiny_config`: the subprocesses train the same run.
TINY_FLAGS = []


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


def test_evaluation_during_training_writes_metrics_json_and_histogram(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  tiny_config.eval_every_steps = 3
  tiny_config.evaluation.num_samples = 200
  tiny_config.evaluation.num_reference = 300
  train.train_and_evaluate(tiny_config, workdir)
  evaluation_dir = os.path.join(workdir, "evaluation")
  assert sorted(os.listdir(evaluation_dir)) == [
      "step_000003.json", "step_000003_class_histogram.png",
      "step_000006.json", "step_000006_class_histogram.png"]
  with open(os.path.join(evaluation_dir, "step_000006.json")) as f:
    record = json.load(f)
  assert record["dataset"] == "fashion_mnist"
  assert record["reference"]["split"].startswith("test")
  assert record["reference"]["num_images"] == 300
  # 6 steps of training: far from the data, but every number is there and finite.
  for metric in ("fd", "kid", "precision", "recall", "density", "coverage"):
    assert np.isfinite(record["metrics"][metric]["value"]), metric
  assert record["metrics"]["fd"]["num_samples"] == 200
  coverage = record["metrics"]["class_coverage"]
  assert 1 <= coverage["classes_covered"] <= 10 and len(coverage["histogram"]) == 10


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
  _assert_bitwise_equal(resumed, uninterrupted)


def _assert_bitwise_equal(a, b):
  leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
  assert len(leaves_a) == len(leaves_b)
  for x, y in zip(leaves_a, leaves_b):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_sigterm_saves_the_current_step_exits_0_and_resumes_exactly(tiny_config, tmp_path):
  """What a preempted cloud VM does: SIGTERM mid-run; the checkpoint holds the step it reached."""
  workdir = str(tmp_path / "preempted")
  process = subprocess.Popen(
      [sys.executable, "main.py", f"--config={CONFIG}", f"--workdir={workdir}",
       "--config.num_train_steps=100000", "--config.checkpoint_every_steps=1000",
       *TINY_FLAGS],
      cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  deadline = time.time() + 240
  samples = os.path.join(workdir, "samples")
  # Sample grids every 3 steps show that training is under way.
  while time.time() < deadline and not (
      os.path.isdir(samples) and len(glob.glob(os.path.join(samples, "step_*.png"))) >= 3):
    time.sleep(0.2)
  process.send_signal(signal.SIGTERM)
  _, stderr = process.communicate(timeout=120)
  assert process.returncode == 0, stderr[-3000:]
  assert "Preempted: saved the checkpoint of step" in stderr
  saved = _checkpoint_steps(workdir)
  assert len(saved) == 1 and 6 <= saved[0] < 1000, saved

  tiny_config.num_train_steps = saved[0] + 2
  tiny_config.checkpoint_every_steps = 1000
  resumed = train.train_and_evaluate(tiny_config, workdir)
  uninterrupted = train.train_and_evaluate(tiny_config, str(tmp_path / "uninterrupted"))
  _assert_bitwise_equal(resumed, uninterrupted)


def test_skip_policy_counts_non_finite_updates_and_keeps_the_state_finite(tiny_config, tmp_path):
  tiny_config.optimizer.discriminator_learning_rate = 1e30
  tiny_config.nonfinite_policy = "skip"
  state = train.train_and_evaluate(tiny_config, str(tmp_path / "run"))
  assert int(state.step) == tiny_config.num_train_steps
  for leaf in jax.tree_util.tree_leaves(state):
    assert np.all(np.isfinite(np.asarray(leaf)))


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
    ("steps_per_dispatch", 4, "config.log_every_steps=2 is invalid: it must be a multiple of "
     "config.steps_per_dispatch=4"),
    ("dtype", "float16", "config.dtype='float16' is invalid: choose one of ('float32', "
     "'bfloat16')"),
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
  entry = catalog.get("fashion_mnist")
  monkeypatch.setitem(catalog.DATASETS, "fashion_mnist",
                      dataclasses.replace(entry, debian_idx_dir=str(tmp_path / "none")))
  tiny_config.data.data_dir = str(tmp_path)
  with pytest.raises(UserError, match="No data found for dataset 'fashion_mnist'"):
    train.train_and_evaluate(tiny_config, str(tmp_path / "run"))


def test_resume_with_a_different_config_is_refused_with_the_differences(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  tiny_config.model.generator_features = (256, 512, 1024)  # The article's, named below.
  tiny_config.num_train_steps = 3
  train.train_and_evaluate(tiny_config, workdir)
  tiny_config.num_train_steps = 6  # May change on resume.
  tiny_config.optimizer.generator_learning_rate = 1e-4  # May change on resume.
  tiny_config.model.generator_features = (128, 256, 512)
  tiny_config.seed = 5
  with pytest.raises(UserError) as e:
    train.train_and_evaluate(tiny_config, workdir)
  lines = str(e.value).splitlines()
  assert "holds checkpoints of a run with a different config" in lines[0]
  assert lines[1:3] == [
      "  model.generator_features: [256, 512, 1024] in the saved run -> [128, 256, 512] now",
      "  seed: 0 in the saved run -> 5 now"]
  assert _checkpoint_steps(workdir) == [3], "the old checkpoint must survive"


def test_checkpoint_of_another_architecture_lists_the_mismatched_shapes(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  tiny_config.model.generator_features = (256, 512, 1024)  # The article's, named below.
  tiny_config.num_train_steps = 3
  train.train_and_evaluate(tiny_config, workdir)
  os.remove(os.path.join(workdir, "config.json"))  # E.g. checkpoints copied without their config.
  tiny_config.model.generator_features = (256, 512, 512)
  with pytest.raises(UserError) as e:
    train.train_and_evaluate(tiny_config, workdir)
  message = str(e.value)
  assert "does not match this config's model" in message
  assert "  generator/params/Dense_2/kernel: checkpoint (512, 1024) vs this config (512, 512)" in (
      message.splitlines())
  assert "Traceback" not in message and "orbax" not in message.lower()
  assert _checkpoint_steps(workdir) == [3], "the old checkpoint must survive"


def test_non_finite_loss_stops_without_saving(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  tiny_config.optimizer.discriminator_learning_rate = 1e30
  tiny_config.optimizer.generator_learning_rate = 1e30
  with pytest.raises(UserError, match=r"Non-finite training metrics at step 1: g_loss=nan"):
    train.train_and_evaluate(tiny_config, workdir)
  assert _checkpoint_steps(workdir) == []


@pytest.mark.slow  # Three short runs of the loop: ~80 s on 2 cores with a load average of 12.
def test_steps_per_dispatch_run_and_resume_match_single_steps(tiny_config, tmp_path):
  """2 steps per jitted call, stopped at an odd step and resumed: the single-step run's state."""
  tiny_config.update(log_every_steps=2, sample_every_steps=6, checkpoint_every_steps=2,
                     keep_checkpoints=10)
  tiny_config.model.update(generator_features=(32, 64), discriminator_features=(64, 32))
  reference = train.train_and_evaluate(tiny_config, str(tmp_path / "single"))

  workdir = str(tmp_path / "scanned")
  tiny_config.update(steps_per_dispatch=2, num_train_steps=5)  # Calls of 2, 2 and 1 steps.
  train.train_and_evaluate(tiny_config, workdir)
  assert _checkpoint_steps(workdir) == [2, 4, 5]
  tiny_config.num_train_steps = 6  # Resumes at step 5: one call of 1 step.
  state = train.train_and_evaluate(tiny_config, workdir)
  assert int(state.step) == 6 and _checkpoint_steps(workdir) == [2, 4, 5, 6]
  # Not bitwise: XLA fuses a scanned step ~1 ulp differently (tests/test_train_step.py).
  for x, y in zip(jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(reference)):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)


def test_conditional_run_with_ema_resumes_exactly(tiny_conditional_run, tiny_conditional_config,
                                                  tmp_path):
  """The EMA is in the checkpoint: 3 steps, then resumed to 6, equals the uninterrupted run."""
  workdir, uninterrupted = tiny_conditional_run
  assert uninterrupted.generator.ema_params is not None
  assert uninterrupted.generator.module.num_classes == 10
  config = tiny_conditional_config
  config.num_train_steps = 3
  train.train_and_evaluate(config, str(tmp_path / "run"))
  config.num_train_steps = 6
  resumed = train.train_and_evaluate(config, str(tmp_path / "run"))
  _assert_bitwise_equal(resumed, uninterrupted)
  # The EMA is not the live generator, and the sample grid has one row per class.
  assert not np.array_equal(np.asarray(resumed.generator.ema_params["Dense_0"]["kernel"]),
                            np.asarray(resumed.generator.params["Dense_0"]["kernel"]))
  grid = Image.open(os.path.join(workdir, "samples", "step_000006.png"))
  assert grid.size[1] == 10 * (28 + 2) + 2  # 10 rows of 28-pixel tiles, 2-pixel padding


def test_conditional_run_on_data_without_labels_is_one_user_error(tiny_config, tmp_path):
  path = str(tmp_path / "unlabelled.npz")
  np.savez(path, image=np.zeros((32, 28, 28, 1), np.uint8))
  tiny_config.data.source = "npz"
  tiny_config.data.path = path
  tiny_config.conditional = True
  with pytest.raises(UserError, match="config.conditional=True but .* has no class labels"):
    train.train_and_evaluate(tiny_config, str(tmp_path / "run"))


def test_ada_run_with_lazy_r1_resumes_exactly(tiny_config, tmp_path):
  """ADA's p and its controller's sums are in the checkpoint: 3 steps (a checkpoint in the middle
  of an ADA interval and between two R1 steps), resumed to 6, equal 6 uninterrupted steps bit
  for bit, and p moved."""
  config = tiny_config
  config.augment.update(method="ada", ada_p=0.2, ada_interval=2, ada_kimg=0.5)
  config.update(r1_gamma=1.0, regularization_interval=2, checkpoint_every_steps=3,
                log_every_steps=3, sample_every_steps=6, num_train_steps=3)
  run = str(tmp_path / "run")
  checkpointed = train.train_and_evaluate(config, run)
  assert int(checkpointed.ada.num_updates) == 1  # Step 3 of an interval of 2.
  config.num_train_steps = 6
  resumed = train.train_and_evaluate(config, run)
  uninterrupted = train.train_and_evaluate(config, str(tmp_path / "uninterrupted"))
  _assert_bitwise_equal(resumed, uninterrupted)
  assert float(resumed.ada.p) != np.float32(0.2)
