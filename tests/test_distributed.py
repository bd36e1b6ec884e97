"""Several processes: 2 CPU processes x 2 devices (gloo collectives) train what 1 process x 4 does."""

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from gan_jax import checkpointing, distributed
from gan_jax.errors import UserError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = ["--config=configs/default.py", "--config.batch_size=16", "--config.log_every_steps=2",
         "--config.eval_every_steps=0",
         "--config.sample_every_steps=2", "--config.num_sample_images=16",
         "--config.checkpoint_every_steps=2", "--config.keep_checkpoints=100"]
LEARNING_RATE = 2e-4


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _launch(workdir, num_steps, devices, process_id=None, port=None):
  env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
  if process_id is not None:
    env.update(JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}", JAX_NUM_PROCESSES="2",
               JAX_PROCESS_ID=str(process_id))
  return subprocess.Popen(
      [sys.executable, "main.py", *FLAGS, f"--workdir={workdir}",
       f"--config.num_train_steps={num_steps}"],
      cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _launch_two(workdir, num_steps):
  port = _free_port()
  return [_launch(workdir, num_steps, 2, i, port) for i in range(2)]


def _wait(processes, timeout=300):
  for process in processes:
    _, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr[-3000:]


def _assert_same_training(workdir_a, workdir_b, step):
  a = checkpointing.restore_leaves(os.path.join(workdir_a, "checkpoints", str(step), "default"))
  b = checkpointing.restore_leaves(os.path.join(workdir_b, "checkpoints", str(step), "default"))
  assert len(a) == len(b)
  differences = np.concatenate([np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))
                                .ravel() for x, y in zip(a, b)])
  # Adam divides by sqrt(v): float reordering of the cross-process sums can flip the sign of a
  # near-zero gradient and move that one parameter by up to 2 * lr per step, and such
  # differences grow a little each step. Training on other batches or noise (a wrong resume
  # position) moves the bulk of the parameters by ~lr per step; here the bulk agrees 10x closer.
  assert differences.max() <= 2 * LEARNING_RATE * step
  assert np.median(differences) < LEARNING_RATE / 10


@pytest.mark.slow
def test_two_processes_match_one_process_and_resume_after_both_are_killed(tmp_path):
  reference, multi = str(tmp_path / "one_process"), str(tmp_path / "two_processes")
  reference_run = _launch(reference, 6, devices=4)
  processes = _launch_two(multi, 100_000)
  try:
    deadline = time.time() + 300
    while not os.path.exists(os.path.join(multi, "checkpoints", "4")) and time.time() < deadline:
      time.sleep(0.2)
  finally:
    for process in processes:
      process.send_signal(signal.SIGKILL)
      process.wait()
  _wait([reference_run])
  _assert_same_training(reference, multi, 4)

  # Resume on 2 processes from the newest checkpoint both left behind.
  _wait(_launch_two(multi, 6))
  _assert_same_training(reference, multi, 6)
  assert sorted(os.listdir(os.path.join(multi, "samples")))[-1] == "training.gif"


def test_no_settings_means_one_process(tiny_config, monkeypatch):
  for name in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"):
    monkeypatch.delenv(name, raising=False)
  assert distributed.initialize(tiny_config) is False


@pytest.mark.parametrize("env, message", [
    ({"JAX_NUM_PROCESSES": "two"}, "JAX_NUM_PROCESSES='two' is invalid"),
    ({"JAX_NUM_PROCESSES": "0"}, "num_processes=0 is invalid"),
    ({"JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "2"}, "process_id=2 is invalid: it must be in "
     r"\[0, 2\)"),
])
def test_bad_settings_are_one_clear_error(tiny_config, monkeypatch, env, message):
  monkeypatch.setenv("JAX_COORDINATOR_ADDRESS", "127.0.0.1:1")
  for name, value in env.items():
    monkeypatch.setenv(name, value)
  with pytest.raises(UserError, match=message):
    distributed.initialize(tiny_config)
