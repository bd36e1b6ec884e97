"""Training steps/s of the seed MLP GAN on CPU: the project's JAX step against PyTorch eager.

    PYTHONPATH=. .venv/bin/python benchmarks/mlp_cpu.py --batch_size=64 --steps=200 --repeats=5

Rows, all measured in one process on the same fixed real batch (uniform noise in [0, 1], shape
[batch, 28, 28, 1]: the step's cost does not depend on the pixel values, and no dataset is needed):
  * `jax jit(train_step)`: `gan_jax.train_step.train_step` under
    `jax.jit(functools.partial(train_step, ...), donate_argnums=0)`;
  * `jax parallelize_train_step`: the same step through `gan_jax.data_parallel` (what main.py
    runs; jit of shard_map over the 1-device CPU mesh);
  * `torch eager`: a plain PyTorch version of the same networks and step (skipped, and said so,
    when torch is not installed or with --no_torch).

Each timed repeat runs --steps steps after compilation and --warmup_steps warm-up steps (their time
is reported separately). Repeats are interleaved across the rows (A, B, C, B, C, A, ...) so that
load from other processes hits every row alike; the table gives the median steps/s and its ratio
to PyTorch eager in the same run. Compare ratios rather than absolute numbers across machines or
runs: on a shared 2-core machine the absolute numbers move with the load, which is printed. While
another process kept both cores busy, torch with 2 threads fell to ~1 step/s (its OpenMP threads
wait for each other); the ratio then means nothing, so wait for a quiet machine.

The step is 1.24 GFLOP (XLA's cost analysis), nearly all matmuls; at the ~63 GFLOP/s that XLA's
large f32 matmuls reach on the 2-core AMD EPYC, no fp32 implementation can beat ~50 steps/s there.

XLA CPU flags are process-wide and read when the CPU backend starts, so they are tried one run at a
time with --xla_flags. On a 2-core AMD EPYC (jax 0.10.2) `--xla_cpu_multi_thread_eigen=false`,
`--xla_cpu_use_xnnpack=false` and `--xla_cpu_use_onednn=true` made no difference beyond the noise
(the dots run through YNNPACK, not Eigen); `--xla_cpu_copy_insertion_use_region_analysis=true`
gave about +8% with bitwise-identical states, because without it XLA copies ~14 MB of donated
parameters and Adam moments at the start of every step.

The torch row is the plain way to write it (D called on the real and the fake batch separately,
default Adam, D's weight gradients left on during G's backward); concatenating the two D batches,
freezing D for G's backward and foreach Adam together were worth at most ~10% there.
"""

import argparse
import functools
import json
import os
import platform
import statistics
import time

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax import data_parallel, train_state, train_step
from gan_jax.models import mlp

try:
  import torch
except ImportError:  # The JAX rows do not need it.
  torch = None

LATENT_DIM = 100
IMAGE_SHAPE = (28, 28, 1)
LEARNING_RATE = 2e-4
ADAM_B1, ADAM_B2 = 0.5, 0.999


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch_size", type=int, default=64, help="Images per D update.")
  parser.add_argument("--steps", type=int, default=200, help="Train steps per timed repeat.")
  parser.add_argument("--repeats", type=int, default=5, help="Timed repeats of each row.")
  parser.add_argument("--warmup_steps", type=int, default=20,
                      help="Untimed steps after compilation, before the first repeat.")
  parser.add_argument("--no_torch", action="store_true", help="Skip the PyTorch eager row.")
  parser.add_argument("--torch_threads", type=int, default=os.cpu_count(),
                      help="torch.set_num_threads (default: all cores).")
  parser.add_argument("--xla_flags", default="",
                      help="Appended to XLA_FLAGS before the CPU backend starts.")
  args = parser.parse_args()
  for name in ("batch_size", "steps", "repeats"):
    if getattr(args, name) < 1:
      parser.error(f"--{name}={getattr(args, name)} must be at least 1.")
  return args


def cpu_model():
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or "unknown"


def load_average():
  return [round(x, 2) for x in os.getloadavg()]


class JaxRow:
  """A compiled JAX train step and the state it owns (donated, so only the newest is valid)."""

  def __init__(self, name, step_fn, state, batch, rng):
    self.name, self.step_fn, self.state, self.batch, self.rng = name, step_fn, state, batch, rng

  def run(self, num_steps):
    metrics = None
    for _ in range(num_steps):
      self.state, metrics = self.step_fn(self.state, self.batch, self.rng)
    jax.block_until_ready((self.state, metrics))


def create_jax_rows(real_images):
  """The project's step, plain-jitted and through data_parallel, each with its own state."""
  tx = optax.adam(LEARNING_RATE, b1=ADAM_B1, b2=ADAM_B2)
  step = functools.partial(train_step.train_step, generator_loss="non_saturating",
                           n_discriminator_steps=1)

  def new_state():
    return train_state.create_train_state(
        jax.random.key(0), mlp.MLPGenerator(image_shape=IMAGE_SHAPE), mlp.MLPDiscriminator(),
        tx, tx, latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE)

  rng = jax.random.key(1)
  batch = {"image": jnp.asarray(real_images)}
  mesh = data_parallel.create_mesh()
  return [
      JaxRow("jax jit(train_step)", jax.jit(step, donate_argnums=0), new_state(), batch, rng),
      JaxRow("jax parallelize_train_step",
             data_parallel.parallelize_train_step(step, mesh),
             jax.device_put(new_state(), data_parallel.replicated(mesh)),
             jax.device_put(batch, data_parallel.batch_sharded(mesh)), rng),
  ]


class TorchRow:
  """The same GAN and step written the usual PyTorch way, run eagerly."""

  name = "torch eager"

  def __init__(self, real_images):
    nn = torch.nn
    torch.manual_seed(0)
    layers, width = [], LATENT_DIM
    for features in (256, 512, 1024):
      # Keras BatchNormalization(momentum=0.8) keeps 0.8 of the old moving average; PyTorch's
      # momentum is the weight of the new batch, hence 0.2. Keras' epsilon is 1e-3.
      layers += [nn.Linear(width, features), nn.LeakyReLU(0.2),
                 nn.BatchNorm1d(features, eps=1e-3, momentum=0.2)]
      width = features
    self.generator = nn.Sequential(*layers, nn.Linear(width, 784), nn.Sigmoid())
    self.discriminator = nn.Sequential(
        nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
        nn.Linear(256, 1))
    self.generator_opt = torch.optim.Adam(
        self.generator.parameters(), LEARNING_RATE, betas=(ADAM_B1, ADAM_B2))
    self.discriminator_opt = torch.optim.Adam(
        self.discriminator.parameters(), LEARNING_RATE, betas=(ADAM_B1, ADAM_B2))
    self.bce = nn.BCEWithLogitsLoss()  # Mean over the batch, like gan_jax.losses.
    self.real = torch.from_numpy(real_images.reshape(real_images.shape[0], -1))
    self.ones = torch.ones(self.real.shape[0], 1)
    self.zeros = torch.zeros(self.real.shape[0], 1)

  def step(self):
    num = self.real.shape[0]
    with torch.no_grad():  # BatchNorm is in train mode: G's moving statistics update here too.
      fake = self.generator(torch.randn(num, LATENT_DIM))
    d_loss = (self.bce(self.discriminator(self.real), self.ones)
              + self.bce(self.discriminator(fake), self.zeros))
    self.discriminator_opt.zero_grad()
    d_loss.backward()
    self.discriminator_opt.step()

    fake = self.generator(torch.randn(num, LATENT_DIM))
    g_loss = self.bce(self.discriminator(fake), self.ones)  # Non-saturating: target 1.
    self.generator_opt.zero_grad()
    g_loss.backward()
    self.generator_opt.step()

  def run(self, num_steps):
    for _ in range(num_steps):
      self.step()


def warm_up(row, warmup_steps):
  """Returns (first step incl. compilation, further warm-up steps) in seconds."""
  start = time.perf_counter()
  row.run(1)
  first = time.perf_counter() - start
  start = time.perf_counter()
  row.run(warmup_steps)
  return first, time.perf_counter() - start


def main():
  args = parse_args()
  if args.xla_flags:
    # XLA reads XLA_FLAGS when the backend starts (first device use), which is after import.
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {args.xla_flags}".strip()
  jax.config.update("jax_platforms", "cpu")
  use_torch = torch is not None and not args.no_torch
  if use_torch:
    torch.set_num_threads(args.torch_threads)

  real_images = np.random.default_rng(0).uniform(
      size=(args.batch_size, *IMAGE_SHAPE)).astype(np.float32)
  load_start = load_average()
  rows = create_jax_rows(real_images)
  if use_torch:
    rows.append(TorchRow(real_images))
  warmup = {row.name: warm_up(row, args.warmup_steps) for row in rows}

  rates = {row.name: [] for row in rows}
  for repeat in range(args.repeats):
    # Rotate the order so no row always runs right after the same neighbour.
    shift = repeat % len(rows)
    for row in rows[shift:] + rows[:shift]:
      start = time.perf_counter()
      row.run(args.steps)
      rates[row.name].append(args.steps / (time.perf_counter() - start))
  load_end = load_average()

  medians = {name: statistics.median(r) for name, r in rates.items()}
  torch_median = medians.get(TorchRow.name)
  common = {
      "benchmark": "mlp_cpu", "batch_size": args.batch_size, "steps": args.steps,
      "repeats": args.repeats, "warmup_steps": args.warmup_steps,
      "jax": jax.__version__, "flax": flax.__version__, "optax": optax.__version__,
      "torch": torch.__version__ if use_torch else None,
      "torch_threads": args.torch_threads if use_torch else None,
      "xla_flags": os.environ.get("XLA_FLAGS", ""), "cpu_model": cpu_model(),
      "num_cores": os.cpu_count(), "loadavg_start": load_start, "loadavg_end": load_end,
  }

  print(f"MLP GAN train step, batch {args.batch_size}, {args.repeats} x {args.steps} steps, "
        f"CPU {common['cpu_model']} ({common['num_cores']} cores), jax {jax.__version__}, "
        + (f"torch {torch.__version__} ({args.torch_threads} threads)" if use_torch
           else "torch skipped (" + ("--no_torch" if args.no_torch else "not installed") + ")"))
  print(f"XLA_FLAGS={common['xla_flags']!r}; load average (1/5/15 min) {load_start} at start, "
        f"{load_end} at end.\n")
  print("| setting | steps/s (median) | min - max | vs torch eager | first step s | warm-up s |")
  print("|---|---|---|---|---|---|")
  records = []
  for name, median in medians.items():
    ratio = median / torch_median if torch_median else None
    first, rest = warmup[name]
    ratio_text = f"{ratio:.2f}x" if ratio is not None else "n/a"
    print(f"| {name} | {median:.1f} | {min(rates[name]):.1f} - {max(rates[name]):.1f} | "
          f"{ratio_text} | {first:.2f} | {rest:.2f} |")
    records.append({**common, "setting": name, "steps_per_s": round(median, 2),
                    "steps_per_s_repeats": [round(r, 2) for r in rates[name]],
                    "ratio_to_torch_eager": None if ratio is None else round(ratio, 3),
                    "first_step_s": round(first, 3), "warmup_s": round(rest, 3)})
  print()
  for record in records:
    print(json.dumps(record))


if __name__ == "__main__":
  main()
