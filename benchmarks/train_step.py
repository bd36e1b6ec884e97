"""Speed of the project's train step (the one main.py runs) against the machine's peak and PyTorch.

    PYTHONPATH=. python benchmarks/train_step.py --model=mlp,dcgan28,toy2d --compare=torch
    PYTHONPATH=. python benchmarks/train_step.py --model=toy2d --pack=1,4 --num_seeds=3 --steps_per_dispatch=10
    PYTHONPATH=. python benchmarks/train_step.py --model=dcgan64 --batch_size=128,1024 --dtype=bfloat16

The JAX row is `gan_jax.train_step.train_step` through `gan_jax.data_parallel.
parallelize_train_step` (jit of shard_map over all local devices, state donated), with the
models, optimizers and step options of the config of `--model` (MODELS below;
tests/test_benchmarks.py checks them against configs/). For the image models one step = one D
update (a real batch and a fresh generated batch) and one G update (a fresh generated batch),
BCE, non-saturating G loss, separate Adam: the same as `benchmarks/torch_reference.py`. `toy2d`
is PacGAN's 2-D step (configs/pacgan_grid25.py: simultaneous updates, batch_size packed inputs
of --pack points each, G once per pack slot); --num_seeds=K > 1 adds a row of K such GANs in
one vmapped step (`gan_jax.seeds`), counted as K steps per step.

Per setting: compile time (`lower().compile()`, reported apart), then --warmup_steps untimed
steps, then --repeats timed repeats of --steps steps, interleaved with the other rows
(A, B, C, B, C, A, ...) so that load from other processes hits every row alike. Each JSON line
gives the median steps/s, images/s, the step's FLOPs (XLA's `cost_analysis` of the compiled
one-step function), the achieved GFLOP/s and its share of the machine's attainable peak: the
median GFLOP/s of a jitted float32 `jnp.dot` of two --peak_size square matrices, measured in the
same run before each setting (its own JSON line), and the ratio to PyTorch eager. Peak memory:
the device's `peak_bytes_in_use` where the backend reports it (GPU, TPU); on CPU the process'
peak resident set size (`ru_maxrss`: everything the process ever held), labelled as such.

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

from gan_jax import data_parallel, seeds, train_state, train_step
from gan_jax.models import dcgan, registry


class Fields(dict):
  """A dict read like a ConfigDict (`fields.name` and `fields["name"]`), without ml_collections."""

  __getattr__ = dict.__getitem__


_DCGAN_DEFAULTS = dict(
    name="dcgan", generator_strides=None, generator_extra_convs=False,
    batch_norm_after_activation=False, upsampling="auto", discriminator_strides=None,
    discriminator_pool_sizes=None, discriminator_hidden_features=(),
    discriminator_batch_norm=False, spectral_norm=False, batch_norm_momentum=0.9,
    batch_norm_epsilon=1e-5, latent_distribution="normal", generator_dense_projection=False,
    generator_exact_layer_sizes=False, discriminator_truncated_init=False)

# --model -> (image shape, config.model fields, Adam (learning rate, b1, b2)), copied from the
# configs named in the comments (tests/test_benchmarks.py keeps them equal).
MODELS = {
    # configs/mlp_fashion_mnist.py: article 001's fully connected GAN.
    "mlp": ((28, 28, 1), dict(
        name="mlp", latent_dim=100, generator_features=(256, 512, 1024),
        discriminator_features=(512, 256), leaky_relu_slope=0.2, batch_norm_momentum=0.8,
        batch_norm_epsilon=1e-3, generator_activation="leaky_relu",
        generator_output_activation="sigmoid", discriminator_maxout_pieces=1,
        batch_norm_after_activation=True, generator_hidden_bias=True, init_std=None,
        latent_distribution="normal"), (2e-4, 0.5, 0.999)),
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
    # configs/pacgan_grid25.py: PacGAN's 2-D networks (G 4x400 ReLU, D 3x200 maxout-5).
    "toy2d": ((2,), dict(
        name="mlp", latent_dim=2, generator_features=(400, 400, 400, 400),
        discriminator_features=(200, 200, 200), leaky_relu_slope=0.2, batch_norm_momentum=0.95,
        batch_norm_epsilon=1e-4, generator_activation="relu",
        generator_output_activation="linear", discriminator_maxout_pieces=5,
        batch_norm_after_activation=False, generator_hidden_bias=False, init_std=0.02,
        latent_distribution="normal"), (1e-4, 0.8, 0.999)),
}
# --model -> its config's update_order (else "alternating"); the models whose batch_size counts
# packed inputs (config.pack_batch = "inputs": pack x batch_size rows, G once per pack slot).
UPDATE_ORDERS = {"toy2d": "simultaneous"}
PACKED_INPUTS = ("toy2d",)
# The models benchmarks/torch_reference.py builds (all of MODELS; toy2d with its packing).
TORCH_MODELS = ("mlp", "dcgan28", "dcgan64", "dcgan_rps", "toy2d")


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
  parser.add_argument("--update_order", default="",
                      help="Add a JAX row with this config.update_order (shared_forward, "
                      "simultaneous: not the same step, see gan_jax/train_step.py).")
  parser.add_argument("--pack", default="1", help="config.pack (PacGAN's m), comma-separated "
                      "to sweep; toy2d draws pack x batch_size points per step.")
  parser.add_argument("--num_seeds", type=int, default=1,
                      help="K > 1: add a row of K GANs in one vmapped step (config.num_seeds).")
  parser.add_argument("--peak_size", type=int, default=2048,
                      help="Side of the square float32 matmul that measures the attainable peak.")
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
  args.pack = [int(p) for p in args.pack.split(",")]
  if args.update_order and args.update_order not in train_step.UPDATE_ORDERS:
    parser.error(f"--update_order={args.update_order} is not one of {train_step.UPDATE_ORDERS}.")
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
  for name in ("steps", "repeats", "steps_per_dispatch", "num_seeds", "peak_size"):
    if getattr(args, name) < 1:
      parser.error(f"--{name}={getattr(args, name)} must be at least 1.")
  if args.steps % args.steps_per_dispatch:
    parser.error(f"--steps={args.steps} must be a multiple of --steps_per_dispatch.")
  if min(args.pack) < 1 or any(b % p for b in args.batch_size for p in args.pack
                                if not set(args.model) <= set(PACKED_INPUTS)):
    parser.error("--pack must be positive and divide --batch_size (images are packed within "
                 "the batch).")
  if min(args.batch_size) < 1 or any(b % jax.local_device_count() for b in args.batch_size):
    parser.error(f"--batch_size must be positive multiples of the {jax.local_device_count()} "
                 "devices.")
  return args


def model_fields(model):
  image_shape, fields, adam = MODELS[model]
  return image_shape, Fields(fields), adam


def batch_rows(model, batch_size, pack):
  """Real rows per step: batch_size, times pack where batch_size counts packed inputs."""
  return batch_size * pack if model in PACKED_INPUTS else batch_size


def real_batch(model, num_rows, seed=0):
  """A fixed real batch in the generator's output range (the step's cost ignores the values);
  standard-normal points for an unbounded (linear) generator."""
  image_shape, fields, _ = model_fields(model)
  rng = np.random.default_rng(seed)
  bounds = registry.output_range(fields)
  if bounds is None:
    return rng.normal(size=(num_rows, *image_shape)).astype(np.float32)
  return rng.uniform(*bounds, (num_rows, *image_shape)).astype(np.float32)


def matmul_peak(size, dtype="float32", repeats=5, calls=10):
  """Median GFLOP/s of a jitted [size, size] x [size, size] `jnp.dot` in `dtype` (float32
  accumulation) on this backend: the attainable peak the step's GFLOP/s is compared with."""
  x = jax.random.normal(jax.random.key(0), (size, size), jnp.dtype(dtype))
  matmul = jax.jit(lambda a: jnp.dot(a, a, preferred_element_type=jnp.float32))
  jax.block_until_ready(matmul(x))
  rates = []
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(calls):
      out = matmul(x)
    jax.block_until_ready(out)
    rates.append(2.0 * size**3 * calls / (time.perf_counter() - start) / 1e9)
  return statistics.median(rates)


class JaxRow:
  """The project's data-parallel step on a fixed batch; owns its (donated) state.

  num_seeds > 1: that many GANs in one vmapped step (`seeds.map_train_step`), each on the batch.
  """

  def __init__(self, model, images, dtype, steps_per_dispatch=1, update_order=None,
               upsampling=None, pack=1, num_seeds=1):
    update_order = update_order or UPDATE_ORDERS.get(model, "alternating")
    parts = ["jax"]
    if steps_per_dispatch > 1:
      parts.append(f"steps_per_dispatch={steps_per_dispatch}")
    if update_order != UPDATE_ORDERS.get(model, "alternating"):
      parts.append(update_order)
    if upsampling:
      parts.append(f"upsampling={upsampling}")
    if num_seeds > 1:
      parts.append(f"num_seeds={num_seeds}")
    self.name = " ".join(parts)
    self.steps_per_dispatch, self.num_seeds = steps_per_dispatch, num_seeds
    image_shape, fields, (learning_rate, b1, b2) = model_fields(model)
    if upsampling:
      fields = Fields(fields, upsampling=upsampling)
    generator, discriminator = registry.create_models(fields, image_shape, dtype=dtype)
    tx = optax.adam(learning_rate, b1=b1, b2=b2)
    mesh = data_parallel.create_mesh()
    build = lambda rng: train_state.create_train_state(
        rng, generator, discriminator, tx, tx, latent_dim=fields.latent_dim,
        image_shape=image_shape, pack=pack)
    step = functools.partial(train_step.train_step, options=train_step.StepOptions(
        pack=pack, update_order=update_order,
        generator_groups=pack if model in PACKED_INPUTS else 1))
    self.rng = jax.random.key(1)
    if num_seeds > 1:
      init, self.rng, _ = seeds.stacked_keys(list(range(num_seeds)))
      build, step = jax.vmap(build), seeds.map_train_step(step)
      images = np.broadcast_to(images, (num_seeds, *images.shape))
    else:
      init = jax.random.key(0)
    self.state = jax.jit(build, out_shardings=data_parallel.replicated(mesh))(init)
    multi = steps_per_dispatch > 1
    if multi:
      images = np.broadcast_to(images, (steps_per_dispatch, *images.shape))
    self.batch = jax.device_put(
        {"image": images},
        data_parallel.batch_sharded(mesh, seed_axis=num_seeds > 1, multi_step=multi))
    self.step_fn = data_parallel.parallelize_train_step(step, mesh, seed_axis=num_seeds > 1,
                                                        multi_step=multi)
    self.flops = None

  def compile(self):
    """Seconds to trace, lower and compile the step (the jit cache then holds it); sets
    `flops`, XLA's count for one call (for a scan: one iteration, see `main`)."""
    start = time.perf_counter()
    compiled = self.step_fn.lower(self.state, self.batch, self.rng).compile()
    seconds = time.perf_counter() - start
    self.flops = data_parallel.compiled_flops(compiled)
    return seconds

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


def setting_rows(model, images, dtype, pack, args, torch_reference):
  """The rows timed together for one (model, batch size, dtype, pack)."""
  dcgan_model = model_fields(model)[1].name == "dcgan"
  upsamplings = args.upsampling if dcgan_model and args.upsampling else [None]
  rows = [JaxRow(model, images, dtype, upsampling=u, pack=pack) for u in upsamplings]
  if args.steps_per_dispatch > 1:
    rows.append(JaxRow(model, images, dtype, args.steps_per_dispatch, pack=pack))
  if args.update_order:
    rows.append(JaxRow(model, images, dtype, update_order=args.update_order, pack=pack))
  if args.num_seeds > 1:
    rows.append(JaxRow(model, images, dtype, pack=pack, num_seeds=args.num_seeds))
  if torch_reference is not None and model in TORCH_MODELS and (
      pack == 1 or model in PACKED_INPUTS):
    rows.append(torch_reference.TorchRow(model, images, dtype, pack=pack))
    if args.torch_compile:
      rows.append(torch_reference.TorchRow(model, images, dtype, compile=True, pack=pack))
  return rows


def flops_per_step(row, rows):
  """XLA's FLOPs of one step of `row`. A scan's cost analysis counts its body once, so a
  steps_per_dispatch row takes the count of the one-step row of the same step."""
  if getattr(row, "steps_per_dispatch", 1) > 1:
    return rows[0].flops
  return getattr(row, "flops", None)


def measure_setting(model, batch_size, dtype, pack, args, torch_reference=None, env=None):
  """Times the rows of one setting (`setting_rows`); returns (peak record, row records)."""
  env = env or {}
  images = real_batch(model, batch_rows(model, batch_size, pack))
  rows = setting_rows(model, images, dtype, pack, args, torch_reference)
  load_start = [round(x, 2) for x in os.getloadavg()]
  peak = matmul_peak(args.peak_size)
  peak_record = {"row": "peak", "matmul": f"float32 {args.peak_size}^2 jnp.dot, jitted",
                 "gflops_per_s": round(peak, 1), **env}
  warmup, rates = time_rows(rows, args)
  load_end = [round(x, 2) for x in os.getloadavg()]
  memory, memory_kind = peak_memory()
  medians = {name: statistics.median(r) for name, r in rates.items()}
  torch_eager = medians.get("torch eager")
  records = []
  for row in rows:
    median = medians[row.name]
    flops = flops_per_step(row, rows)
    gflops = flops * median / 1e9 if flops else None
    record = {
        "model": model, "batch_size": batch_size, "pack": pack, "dtype": dtype,
        "row": row.name, "steps_per_s": round(median, 2),
        "images_per_s": round(median * len(images) * getattr(row, "num_seeds", 1), 1),
        "steps_per_s_repeats": [round(r, 2) for r in rates[row.name]],
        "gflop_per_step": round(flops / 1e9, 4) if flops else None,
        "gflops_per_s": round(gflops, 1) if gflops else None,
        "share_of_peak": round(gflops / peak, 3) if gflops else None,
        "peak_gflops_per_s": round(peak, 1),
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
    records.append(record)
  return peak_record, records


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
        for pack in args.pack:
          peak, records = measure_setting(model, batch_size, dtype, pack, args,
                                          torch_reference, env)
          for record in (peak, *records):
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
  main()
