"""Feeds main.py hundreds of random mistakes and counts how many end in the intended one-line error.

    python scripts/fuzz_user_errors.py --cases=200 --out=runs/fuzz

Each case is one `python main.py ...` process with one or more mistakes a user can make: a bad
value for a config field (wrong type, out of range, unknown choice), an unknown field or flag, a
missing or broken config file, an unwritable workdir, missing or corrupt data, a workdir whose
checkpoints are damaged or come from another config, bad multi-process settings. The intended
outcome is exit status 2, exactly one stderr line starting with `error:`, and no traceback.
Prints each miss in full and a JSON summary (docs/reliability.md).
"""

import argparse
import collections
import concurrent.futures
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--config.batch_size=16", "--config.num_train_steps=2", "--config.log_every_steps=1",
        "--config.sample_every_steps=2", "--config.num_sample_images=4",
        "--config.checkpoint_every_steps=1", "--config.eval_every_steps=0"]

# (field, bad values): each value alone makes the config invalid.
BAD_VALUES = {
    # (Not 15 or 7: on one device any positive batch divides.)
    "batch_size": [0, -1, -64, "abc", 1.5, 10**9],
    "num_train_steps": [0, -5, "ten", 2.5],
    "n_discriminator_steps": [0, -1, "two"],
    "log_every_steps": [0, -10, "x"],
    "sample_every_steps": [0, -3],
    "checkpoint_every_steps": [0, -1, "often"],
    "keep_checkpoints": [0, -2],
    "num_sample_images": [0, -16],
    "seed": ["abc", 1.5],
    "num_seeds": [0, -2, 1.5, "four"],
    "generator_loss": ["wasserstein_typo", "", "MINIMAX"],
    "nonfinite_policy": ["ignore", "", "Stop"],
    "model.name": ["resnet", "", "MLP"],
    "model.latent_dim": [0, -100, "z"],
    "optimizer.name": ["sgdd", "", "lamb"],
    "optimizer.generator_learning_rate": [0.0, -2e-4, -1, "fast"],
    "optimizer.discriminator_learning_rate": [0.0, -1e-3, "slow"],
    "optimizer.b1": [1.0, 1.5, -0.1, "half"],
    "optimizer.b2": [1.0, 2.0, -0.5],
    "data.name": ["cifar100_typo", "", "mnistt", "imagenet"],
    "data.split": ["validation", "trian", ""],
    "data.source": ["folder", "", "tfrecord"],
    "data.image_size": [0, -28, "big"],
    "data.crop": ["middle", ""],
    "data.resize_method": ["lanczos9", ""],
    "data.channels": [2, 4],
    "data.value_range": ["(1.0,0.0)", "(-1.0,1.0)", "(0.0,0.0)"],
    "data.shuffle_buffer": [0, -1],
    "loss": ["wgan", "", "BCE"],
    "gradient_penalty_weight": [-1.0, -10, "ten"],
    "discriminator_weight_clip": [0.0, -0.01],
    "eval_every_steps": [-1, "often"],
    "evaluation.num_reference": [0, 1],
    "evaluation.reference_split": ["val", "validation"],
    "model.generator_features": ["(0,256,512)", "(-1,2,3)"],
    "model.discriminator_features": ["(512,0)"],
    "model.leaky_relu_slope": [-0.5, 1.5],
    "model.batch_norm_momentum": [1.5, -0.1],
    "model.batch_norm_epsilon": [0.0, -1e-3],
    "distributed.initialization_timeout_s": [0, -5],
    "dtype": ["float16", "bf16", ""],
    "steps_per_dispatch": [0, -2, "many", 3],
    "update_order": ["together", 2],
    "model.upsampling": ["pixel_shuffle", ""],
    "pack": [0, -4, "two", 7],
    "model.generator_activation": ["gelu", ""],
    "model.generator_output_activation": ["softmax", "none"],
    "model.discriminator_maxout_pieces": [0, -1],
    "ema_decay": [1.0, 1.5, -0.1, "slow"],
    "conditional": ["maybe", 2],
    "augment.method": ["adaptive", "", "ADA"],
    "augment.diffaugment_policy": ["colour", "", "color;cutout"],
    "augment.ada_pipeline": ["geom", "blit,noise"],
    "augment.ada_p": [1.5, -0.1],
    "augment.ada_target": [1.0, -2.0],
    "augment.ada_interval": [-1, -4],
    "augment.ada_kimg": [0.0, -500.0],
    "r1_gamma": [-1.0, -10],
    "r2_gamma": [-0.5],
    "regularization_interval": [0, -16],
    "data.subset_size": [0, -2500],
    "model.latent_distribution": ["gaussian", "", "Uniform"],
    "n_generator_steps": [0, -2, "two"],
    "generator_latents": ["same", "", "Fresh"],
    "data.fixed_packs": ["yes", 2],
    "data.reshuffle": ["no", 3],
    "data.inside_generator_range": ["maybe"],
}


def value_flag(field, value):
  return f"--config.{field}={value}"


class Fixtures:
  """Files some cases point at: broken config files, corrupt data, damaged or foreign runs."""

  def __init__(self, root):
    self.root = root
    os.makedirs(root, exist_ok=True)
    self.syntax_error = self._write("syntax_error.py", "def get_config(:\n")
    self.no_get_config = self._write("no_get_config.py", "x = 1\n")
    self.raises = self._write("raises.py", "def get_config():\n  raise RuntimeError('boom')\n")
    self.not_a_dir = self._write("a_file", "not a folder")
    self.corrupt_idx = os.path.join(root, "corrupt_idx")
    os.makedirs(self.corrupt_idx, exist_ok=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
      with gzip.open(os.path.join(self.corrupt_idx, name), "wb") as f:
        f.write(b"\x00\x00\x08\x03\x00\x00\xea\x60\x00\x00\x00\x1c\x00\x00\x00\x1ctruncated")
    self.empty_dir = os.path.join(root, "empty_dir")
    os.makedirs(self.empty_dir, exist_ok=True)
    self.trained = os.path.join(root, "trained")
    result = subprocess.run([sys.executable, "main.py", "--config=configs/default.py",
                             f"--workdir={self.trained}", *TINY], cwd=REPO,
                            capture_output=True, text=True)
    if result.returncode != 0:
      sys.exit("could not train the fixture run:\n" + result.stderr[-3000:])

  def _write(self, name, text):
    path = os.path.join(self.root, name)
    with open(path, "w") as f:
      f.write(text)
    return path

  def copy_run(self, name):
    destination = os.path.join(self.root, "copies", name)
    shutil.copytree(self.trained, destination)
    return destination


def make_case(rng, index, fixtures):
  """(description, argv, env) of one random mistake (or two at once)."""
  config = "--config=configs/default.py"
  workdir = os.path.join(fixtures.root, "work", str(index))
  env = {}
  kind = rng.choice(["value"] * 6 + ["two_values"] * 2 + [
      "unknown_field", "unknown_flag", "no_workdir", "no_config", "missing_config_file",
      "broken_config_file", "positional", "unwritable_workdir", "data_dir_not_a_folder",
      "corrupt_idx", "empty_data_dir", "foreign_architecture", "changed_config",
      "damaged_checkpoints", "distributed_env"])
  flags = []
  if kind == "value":
    field = rng.choice(sorted(BAD_VALUES))
    flags = [value_flag(field, rng.choice(BAD_VALUES[field]))]
  elif kind == "two_values":
    for field in rng.sample(sorted(BAD_VALUES), 2):
      flags.append(value_flag(field, rng.choice(BAD_VALUES[field])))
  elif kind == "unknown_field":
    flags = [rng.choice(["--config.", "--config.model.", "--config.data.", "--config.optimizer."])
             + rng.choice(["lr", "batchsize", "nosuch", "latentdim", "epochs"]) + "=3"]
  elif kind == "unknown_flag":
    flags = [rng.choice(["--bogus=1", "--work_dir=x", "--configs=configs/default.py", "--lr=1"])]
  elif kind == "no_workdir":
    workdir = None
  elif kind == "no_config":
    config = None
  elif kind == "missing_config_file":
    config = rng.choice(["--config=configs/nosuch.py", "--config=", "--config=/nonexistent/c.py"])
  elif kind == "broken_config_file":
    config = "--config=" + rng.choice(
        [fixtures.syntax_error, fixtures.no_get_config, fixtures.raises])
  elif kind == "positional":
    flags = [rng.choice(["train", "configs/default.py", "extra"])]
  elif kind == "unwritable_workdir":
    workdir = os.path.join(fixtures.not_a_dir, "run")
  elif kind == "data_dir_not_a_folder":
    flags = [f"--config.data.data_dir={rng.choice([fixtures.not_a_dir, '/nonexistent/data'])}"]
  elif kind == "corrupt_idx":
    flags = [f"--config.data.data_dir={fixtures.corrupt_idx}"]
  elif kind == "empty_data_dir":
    flags = [f"--config.data.data_dir={fixtures.empty_dir}", "--config.data.name=mnist",
             "--config.data.split=test"]
  elif kind == "foreign_architecture":
    workdir = fixtures.copy_run(f"foreign_{index}")
    os.remove(os.path.join(workdir, "config.json"))
    flags = ["--config.model.generator_features=(64,64,64)"]
  elif kind == "changed_config":
    workdir = fixtures.copy_run(f"changed_{index}")
    flags = [rng.choice(["--config.seed=7", "--config.model.latent_dim=64",
                         "--config.generator_loss=minimax", "--config.data.name=mnist"])]
  elif kind == "damaged_checkpoints":
    workdir = fixtures.copy_run(f"damaged_{index}")
    for root, _, files in os.walk(os.path.join(workdir, "checkpoints")):
      for name in files:
        if "ocdbt" in root or name in ("_METADATA", "manifest.ocdbt"):
          with open(os.path.join(root, name), "r+b") as f:
            f.truncate(3)
  elif kind == "distributed_env":
    env = {"JAX_COORDINATOR_ADDRESS": "127.0.0.1:1", **rng.choice([
        {"JAX_NUM_PROCESSES": "two"}, {"JAX_NUM_PROCESSES": "0"},
        {"JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "5"}, {"JAX_PROCESS_ID": "x"}])}
  argv = ["main.py"] + ([config] if config else []) + (
      [f"--workdir={workdir}"] if workdir else []) + TINY + flags
  return kind, argv, env


def run_case(case, timeout):
  kind, argv, env = case
  start = time.time()
  try:
    result = subprocess.run([sys.executable, *argv], cwd=REPO, capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, **env})
    returncode, stderr = result.returncode, result.stderr
  except subprocess.TimeoutExpired as e:
    returncode, stderr = "timeout", (e.stderr or b"").decode(errors="replace")
  error_lines = [line for line in stderr.splitlines() if line.startswith("error:")]
  intended = returncode == 2 and len(error_lines) == 1 and "Traceback" not in stderr
  return {"kind": kind, "argv": argv[1:], "env": env, "returncode": returncode,
          "intended": intended, "traceback": "Traceback" in stderr,
          "error": error_lines[0] if error_lines else None,
          "stderr_tail": None if intended else stderr[-1500:],
          "seconds": round(time.time() - start, 1)}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--cases", type=int, default=200)
  parser.add_argument("--workers", type=int, default=2)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--timeout", type=float, default=180)
  parser.add_argument("--out", required=True, help="Folder for fixtures and the JSON report.")
  args = parser.parse_args()
  if os.path.exists(args.out):
    sys.exit(f"{args.out} exists; pass a new --out.")
  rng = random.Random(args.seed)
  fixtures = Fixtures(args.out)
  cases = [make_case(rng, i, fixtures) for i in range(args.cases)]
  start = time.time()
  results = []
  # One JSON line per finished case, so a long fuzz run can be followed (and read if stopped).
  with open(os.path.join(args.out, "results.jsonl"), "w") as stream, \
      concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
    for result in pool.map(lambda c: run_case(c, args.timeout), cases):
      results.append(result)
      stream.write(json.dumps(result) + "\n")
      stream.flush()
  for result in results:
    if not result["intended"]:
      print(json.dumps(result, indent=1))
  by_kind = collections.Counter(r["kind"] for r in results)
  summary = {"cases": len(results), "intended_one_line_errors": sum(r["intended"] for r in results),
             "tracebacks": sum(r["traceback"] for r in results),
             "by_kind": dict(sorted(by_kind.items())), "wall_s": round(time.time() - start)}
  with open(os.path.join(args.out, "report.json"), "w") as f:
    json.dump({"summary": summary, "results": results}, f, indent=1)
  print(json.dumps(summary))
  sys.exit(0 if summary["intended_one_line_errors"] == len(results) else 1)


if __name__ == "__main__":
  main()
