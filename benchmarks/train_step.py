"""Speed of the project's train step (the one main.py runs), optionally against PyTorch.

    PYTHONPATH=. python benchmarks/train_step.py --model=mlp --batch_size=64 --dtype=float32,bfloat16 --compare=torch
    PYTHONPATH=. python benchmarks/train_step.py --model=dcgan64 --batch_size=128,1024 --dtype=bfloat16

The JAX row is `gan_jax.train_step.train_step` through `gan_jax.data_parallel.
parallelize_train_step` (jit of shard_map over all local devices, state donated), with the
models and optimizers `gan_jax.models.registry` and `gan_jax.optimizers` build for the config of
`--model` (MODELS below; tests/test_benchmarks.py checks them against configs/). One step = one
D update (a real batch and a fresh generated batch) and one G update (a fresh generated batch),
BCE, non-saturating G loss, separate Adam; the same as `benchmarks/torch_reference.py`.

Per setting (model, batch size, dtype): compile time (`lower().compile()`, reported apart), then
--warmup_steps untimed steps, then --repeats timed repeats of --steps steps, interleaved with the
PyTorch rows (A, B, C, B, C, A, ...) so that load from other processes hits every row alike; the
JSON line gives the median steps/s, images/s (= batch_size x steps/s) and the ratio to PyTorch
eager in the same run. Peak memory: the device's `peak_bytes_in_use` where the backend reports it
(GPU, TPU); on CPU it does not, and the line gives the process' peak resident set size instead
(`ru_maxrss`: everything the process ever held, PyTorch included), labelled as such.

Imports only jax, flax, optax, numpy and gan_jax's model/step modules: no TensorFlow, clu or
ml_collections (the GPU machine lacks them); PyTorch only with --compare=torch.
"""

import argparse
import functools
import json
import os
import platform
import resource
import statistics
import sys
import time

if __package__ in (None, ""):  # Run as a script: make `gan_jax` and `benchmarks` importable.
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import flax  # pylint: disable=g-import-not-at-top
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax import data_parallel, train_state, train_step
from gan_jax.models import dcgan, registry


class Fields(dict):
  """A dict read like a ConfigDict (`fields.name` and `fields["name"]`), without ml_collections."""

  __getattr__ = dict.__getitem__


_DCGAN_DEFAULTS = dict(
    name="dcgan", generator_strides=None, generator_extra_convs=False,
    batch_norm_after_activation=False, upsampling="auto", discriminator_strides=None,
    discriminator_pool_sizes=None, discriminator_hidden_features=(),
    discriminator_batch_norm=False, spectral_norm=False, batch_norm_momentum=0.9,
    batch_norm_epsilon=1e-5)

# --model -> (image shape, config.model fields, Adam (learning rate, b1, b2)), copied from the
# configs named in the comments (tests/test_benchmarks.py keeps them equal).
MODELS = {
    # configs/mlp_fashion_mnist.py: article 001's fully connected GAN.
    "mlp": ((28, 28, 1), dict(
        name="mlp", latent_dim=100, generator_features=(256, 512, 1024),
        discriminator_features=(512, 256), leaky_relu_slope=0.2, batch_norm_momentum=0.8,
        batch_norm_epsilon=1e-3, generator_activation="leaky_relu",
        generator_output_activation="sigmoid", discriminator_maxout_pieces=1),
     (2e-4, 0.5, 0.999)),
    # configs/dcgan_fashion_mnist.py: the small 28x28 DCGAN.
    "dcgan28": ((28, 28, 1), dict(
        _DCGAN_DEFAULTS, latent_dim=100, generator_features=(64, 32),
        generator_kernel_sizes=(4, 4), generator_activation="leaky_relu",
        discriminator_features=(32, 64), discriminator_kernel_sizes=(4, 4), dropout_rate=0.3,
        leaky_relu_slope=0.2, init_std=0.02), (2e-4, 0.5, 0.999)),
    # configs/dcgan64.py: Radford et al.'s 64x64 DCGAN.
    "dcgan64": ((64, 64, 3), dict(
        _DCGAN_DEFAULTS, latent_dim=100, generator_features=(1024, 512, 256, 128),
        generator_kernel_sizes=(4, 4, 4, 4), generator_activation="relu",
        discriminator_features=(128, 256, 512, 1024), discriminator_kernel_sizes=(4, 4, 4, 4),
        dropout_rate=0.0, discriminator_batch_norm=True, leaky_relu_slope=0.2, init_std=0.02),
              (2e-4, 0.5, 0.999)),
    # configs/dcgan_rps.py: article 004's 300x300 Rock-Paper-Scissors DCGAN.
    "dcgan_rps": ((300, 300, 3), dict(
        _DCGAN_DEFAULTS, latent_dim=512, generator_features=(512, 128, 32, 16, 8),
        generator_strides=(5, 3, 2, 2, 1), generator_kernel_sizes=(5, 3, 3, 3, 3),
        generator_extra_convs=True, generator_activation="leaky_relu",
        batch_norm_after_activation=True, discriminator_features=(8, 16, 32, 128, 512),
        discriminator_strides=(1, 1, 1, 1, 1), discriminator_kernel_sizes=(3, 3, 3, 5, 5),
        discriminator_pool_sizes=(2, 2, 3, 5, 5), discriminator_hidden_features=(32,),
        dropout_rate=0.2, leaky_relu_slope=0.1, batch_norm_momentum=0.99,
        batch_norm_epsilon=1e-3, init_std=None), (1e-4, 0.9, 0.999)),
}


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--model", default="mlp", help=f"One or more (comma-separated) of "
                      f"{', '.join(MODELS)}.")
  parser.add_argument("--batch_size", default="64", help="Images per D update; a comma-"
                      "separated list sweeps them.")
  parser.add_argument("--dtype", default="float32", help="float32 and/or bfloat16 (comma-"
                      "separated): config.dtype for JAX, autocast for PyTorch.")
  parser.add_argument("--steps_per_dispatch", type=int, default=1,
                      help="JAX train steps per jitted call (config.steps_per_dispatch).")
  parser.add_argument("--share_generator_forward", action="store_true",
                      help="Add a JAX row with config.share_generator_forward=True (one G "
                      "forward per step: not the same step, see gan_jax/train_step.py).")
  parser.add_argument("--upsampling", default="",
                      help="DCGAN models: comma-separated config.model.upsampling values, one "
                      "JAX row each (default: the model's, i.e. auto).")
  parser.add_argument("--compare", default="", choices=("", "torch"),
                      help="torch: also time benchmarks/torch_reference.py in the same run.")
  parser.add_argument("--torch_compile", action="store_true",
                      help="Add a torch.compile row (compiles with a C++ toolchain on CPU).")
  parser.add_argument("--steps", type=int, default=100, help="Train steps per timed repeat.")
  parser.add_argument("--repeats", type=int, default=5, help="Timed repeats of each row.")
  parser.add_argument("--warmup_steps", type=int, default=10,
                      help="Untimed steps after compilation, before the first repeat.")
  parser.add_argument("--torch_threads", type=int, default=os.cpu_count(),
                      help="torch.set_num_threads on CPU (default: all cores).")
  args = parser.parse_args(argv)
  args.model = args.model.split(",")
  args.batch_size = [int(b) for b in args.batch_size.split(",")]
  args.dtype = args.dtype.split(",")
  args.upsampling = [u for u in args.upsampling.split(",") if u]
  for upsampling in args.upsampling:
    if upsampling not in dcgan.UPSAMPLING:
      parser.error(f"--upsampling={upsampling} is not one of {dcgan.UPSAMPLING}.")
  for model in args.model:
    if model not in MODELS:
      parser.error(f"--model={model} is not one of {tuple(MODELS)}.")
  for dtype in args.dtype:
    if dtype not in registry.DTYPES:
      parser.error(f"--dtype={dtype} is not one of {tuple(registry.DTYPES)}.")
  for name in ("steps", "repeats", "steps_per_dispatch"):
    if getattr(args, name) < 1:
      parser.error(f"--{name}={getattr(args, name)} must be at least 1.")
  if args.steps % args.steps_per_dispatch:
    parser.error(f"--steps={args.steps} must be a multiple of --steps_per_dispatch.")
  if min(args.batch_size) < 1 or any(b % jax.local_device_count() for b in args.batch_size):
    parser.error(f"--batch_size must be positive multiples of the {jax.local_device_count()} "
                 "devices.")
  return args


def model_fields(model):
  image_shape, fields, adam = MODELS[model]
  return image_shape, Fields(fields), adam


def real_batch(model, batch_size, seed=0):
  """A fixed real batch in the generator's output range (the step's cost ignores the values)."""
  image_shape, fields, _ = model_fields(model)
  low, high = registry.output_range(fields)
  return np.random.default_rng(seed).uniform(low, high, (batch_size, *image_shape)).astype(
      np.float32)


class JaxRow:
  """The project's data-parallel step on a fixed batch; owns its (donated) state."""

  def __init__(self, model, images, dtype, steps_per_dispatch=1, share_generator_forward=False,
               upsampling=None):
    self.name = "jax" if steps_per_dispatch == 1 else f"jax steps_per_dispatch={steps_per_dispatch}"
    if share_generator_forward:
      self.name += " share_generator_forward"
    if upsampling:
      self.name += f" upsampling={upsampling}"
    self.steps_per_dispatch = steps_per_dispatch
    image_shape, fields, (learning_rate, b1, b2) = model_fields(model)
    if upsampling:
      fields = Fields(fields, upsampling=upsampling)
    generator, discriminator = registry.create_models(fields, image_shape, dtype=dtype)
    tx = optax.adam(learning_rate, b1=b1, b2=b2)
    mesh = data_parallel.create_mesh()
    self.state = jax.jit(
        lambda rng: train_state.create_train_state(
            rng, generator, discriminator, tx, tx, latent_dim=fields.latent_dim,
            image_shape=image_shape),
        out_shardings=data_parallel.replicated(mesh))(jax.random.key(0))
    multi = steps_per_dispatch > 1
    if multi:
      images = np.broadcast_to(images, (steps_per_dispatch, *images.shape))
    self.batch = jax.device_put(
        {"image": images},
        data_parallel.batch_sharded(mesh, multi_step=multi))
    self.rng = jax.random.key(1)
    self.step_fn = data_parallel.parallelize_train_step(
        functools.partial(train_step.train_step, loss="bce", generator_loss="non_saturating",
                          update_order="shared_forward" if share_generator_forward else
                          "alternating"),
        mesh, multi_step=multi)

  def compile(self):
    """Seconds to trace, lower and compile the step (the jit cache then holds it)."""
    start = time.perf_counter()
    self.step_fn.lower(self.state, self.batch, self.rng).compile()
    return time.perf_counter() - start

  def run(self, num_steps):
    metrics = None
    for _ in range(num_steps // self.steps_per_dispatch):
      self.state, metrics = self.step_fn(self.state, self.batch, self.rng)
    jax.block_until_ready((self.state, metrics))


def peak_memory():
  """(bytes, what they measure): the device's peak where reported, else the host's peak RSS."""
  stats = jax.local_devices()[0].memory_stats() or {}
  if "peak_bytes_in_use" in stats:
    return stats["peak_bytes_in_use"], f"{jax.local_devices()[0].platform} peak_bytes_in_use"
  return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
          "host process peak RSS (ru_maxrss; all rows and the process, not per row)")


def cpu_model():
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or "unknown"


def environment(torch_module=None):
  device = jax.local_devices()[0]
  return {
      "device": f"{device.platform}: {getattr(device, 'device_kind', '')}",
      "num_devices": jax.local_device_count(), "cpu_model": cpu_model(),
      "num_cores": os.cpu_count(), "jax": jax.__version__, "flax": flax.__version__,
      "optax": optax.__version__,
      "torch": None if torch_module is None else torch_module.__version__,
  }


def time_rows(rows, args):
  """Warm-up, then interleaved timed repeats; returns {name: (first-step s, [steps/s])}."""
  warmup = {}
  for row in rows:
    start = time.perf_counter()
    compile_s = row.compile()
    row.run(max(args.warmup_steps, getattr(row, "steps_per_dispatch", 1)))
    warmup[row.name] = (compile_s, time.perf_counter() - start - compile_s)
  rates = {row.name: [] for row in rows}
  for repeat in range(args.repeats):
    shift = repeat % len(rows)  # No row always runs right after the same neighbour.
    for row in rows[shift:] + rows[:shift]:
      start = time.perf_counter()
      row.run(args.steps)
      rates[row.name].append(args.steps / (time.perf_counter() - start))
  return warmup, rates


def main(argv=None):
  args = parse_args(argv)
  torch_reference = None
  if args.compare == "torch":
    from benchmarks import torch_reference  # pylint: disable=g-import-not-at-top
    torch_reference.set_threads(args.torch_threads)
  env = environment(torch_reference.torch if torch_reference else None)
  print(f"# {json.dumps(env)}", flush=True)
  for model in args.model:
    for batch_size in args.batch_size:
      for dtype in args.dtype:
        images = real_batch(model, batch_size)
        dcgan_model = model_fields(model)[1].name == "dcgan"
        upsamplings = args.upsampling if dcgan_model and args.upsampling else [None]
        rows = [JaxRow(model, images, dtype, upsampling=u) for u in upsamplings]
        if args.steps_per_dispatch > 1:
          rows.append(JaxRow(model, images, dtype, args.steps_per_dispatch))
        if args.share_generator_forward:
          rows.append(JaxRow(model, images, dtype, share_generator_forward=True))
        if torch_reference is not None:
          rows.append(torch_reference.TorchRow(model, images, dtype))
          if args.torch_compile:
            rows.append(torch_reference.TorchRow(model, images, dtype, compile=True))
        load_start = [round(x, 2) for x in os.getloadavg()]
        warmup, rates = time_rows(rows, args)
        load_end = [round(x, 2) for x in os.getloadavg()]
        memory, memory_kind = peak_memory()
        medians = {name: statistics.median(r) for name, r in rates.items()}
        torch_eager = medians.get("torch eager")
        for row in rows:
          median = medians[row.name]
          record = {
              "model": model, "batch_size": batch_size, "dtype": dtype, "row": row.name,
              "steps_per_s": round(median, 2), "images_per_s": round(median * batch_size, 1),
              "steps_per_s_repeats": [round(r, 2) for r in rates[row.name]],
              "ratio_to_torch_eager": round(median / torch_eager, 3) if torch_eager else None,
              "compile_s": round(warmup[row.name][0], 3),
              "warmup_s": round(warmup[row.name][1], 3),
              "steps": args.steps, "repeats": args.repeats, "warmup_steps": args.warmup_steps,
              "peak_memory_bytes": memory if row.name.startswith("jax") else None,
              "peak_memory_kind": memory_kind if row.name.startswith("jax") else None,
              "loadavg_start": load_start, "loadavg_end": load_end, **env,
          }
          if row.name.startswith("torch"):
            record.update(row.details())
          print(json.dumps(record), flush=True)
        del rows


if __name__ == "__main__":
  main()
