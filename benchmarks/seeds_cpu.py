"""K seeds in one run (`config.num_seeds = K`) against K separate runs, on CPU, in one process.

    PYTHONPATH=. nice -n 5 .venv/bin/python benchmarks/seeds_cpu.py --num_seeds=4 --steps=1000

Two measurements, both on article 001's MLP GAN (configs/mlp_fashion_mnist.py, batch 64) and the
real Fashion-MNIST training set:
  * whole runs: `train.train_and_evaluate` of one run with num_seeds=K against K runs with
    num_seeds=1 and seeds 0 .. K-1, one after the other, each in a fresh workdir, --steps steps,
    no evaluation, one sample grid and one checkpoint at the end. The wall time includes what
    each run pays once (opening the data, building the state, compiling, the final checkpoint),
    not the Python and JAX start-up of a separate command (a few seconds each).
  * the step alone: the jitted data-parallel step with K seeds (vmapped) against the one-seed
    step, on fixed batches, after compilation; repeats interleaved (K, 1, 1, K, ...) so that load
    from other processes hits both alike; K seeds' steps/s is compared with 1/K of the one-seed
    steps/s (the rate at which K separate runs would progress).
Compare the ratios, not the absolute numbers: the machine is shared and the load is printed.
"""

import argparse
import functools
import json
import os
import statistics
import tempfile
import time

import jax
import numpy as np

from configs import mlp_fashion_mnist
from gan_jax import data_parallel, seeds, train, train_state, train_step


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--num_seeds", type=int, default=4, help="K.")
  parser.add_argument("--steps", type=int, default=1000, help="Train steps of each whole run.")
  parser.add_argument("--step_repeats", type=int, default=5, help="Timed repeats of each step.")
  parser.add_argument("--steps_per_repeat", type=int, default=100)
  return parser.parse_args()


def config_for(num_seeds, seed, steps):
  config = mlp_fashion_mnist.get_config()
  config.num_seeds, config.seed, config.num_train_steps = num_seeds, seed, steps
  config.eval_every_steps = 0
  config.sample_every_steps = config.checkpoint_every_steps = steps
  config.log_every_steps = min(100, steps)
  return config


def time_run(config, root):
  start = time.perf_counter()
  state = train.train_and_evaluate(config, tempfile.mkdtemp(dir=root))
  jax.block_until_ready(state)
  return time.perf_counter() - start


def whole_runs(num_seeds, steps):
  with tempfile.TemporaryDirectory() as root:
    together = time_run(config_for(num_seeds, 0, steps), root)
    separate = [time_run(config_for(1, seed, steps), root) for seed in range(num_seeds)]
  return {"one_run_of_k_seeds_s": together, "k_separate_runs_s": separate,
          "k_separate_runs_total_s": sum(separate), "speedup": sum(separate) / together}


def step_rates(num_seeds, repeats, steps_per_repeat):
  """Median steps/s of the K-seed step and of the one-seed step, interleaved repeats."""
  config = config_for(num_seeds, 0, 1)
  mesh = data_parallel.create_mesh()
  replicated = data_parallel.replicated(mesh)
  image_shape = (28, 28, 1)
  images = np.random.default_rng(0).uniform(size=(config.batch_size, *image_shape))
  images = images.astype(np.float32)
  step = functools.partial(train_step.train_step,
                           options=train_step.StepOptions.from_config(config))
  build = functools.partial(train_state.state_from_config, config, image_shape)
  rows = {}
  init, rng, _ = seeds.stacked_keys(seeds.seeds_of(config))
  state = jax.jit(jax.vmap(build), out_shardings=replicated)(init)
  batch = jax.device_put({"image": np.stack([images] * num_seeds)},
                         data_parallel.batch_sharded(mesh, seed_axis=True))
  rows["k_seeds"] = [data_parallel.parallelize_train_step(
      seeds.map_train_step(step), mesh, seed_axis=True), state, batch, rng]
  rng = jax.random.split(jax.random.key(0), 3)[1]
  state = jax.jit(build, out_shardings=replicated)(jax.random.key(0))
  batch = jax.device_put({"image": images}, data_parallel.batch_sharded(mesh))
  rows["one_seed"] = [data_parallel.parallelize_train_step(step, mesh), state, batch, rng]

  def run(name, num):
    step_fn, state, batch, rng = rows[name]
    for _ in range(num):
      state, metrics = step_fn(state, batch, rng)
    jax.block_until_ready((state, metrics))
    rows[name][1] = state

  for name in rows:  # Compile and warm up.
    run(name, 10)
  rates = {name: [] for name in rows}
  for repeat in range(repeats):
    for name in (rows if repeat % 2 == 0 else reversed(list(rows))):
      start = time.perf_counter()
      run(name, steps_per_repeat)
      rates[name].append(steps_per_repeat / (time.perf_counter() - start))
  k_rate, one_rate = (statistics.median(rates[n]) for n in ("k_seeds", "one_seed"))
  return {"k_seeds_steps_per_s": k_rate, "one_seed_steps_per_s": one_rate,
          "k_separate_runs_steps_per_s": one_rate / num_seeds,
          "speedup": k_rate / (one_rate / num_seeds),
          "k_seeds_all": rates["k_seeds"], "one_seed_all": rates["one_seed"]}


def main():
  args = parse_args()
  report = {"num_seeds": args.num_seeds, "steps": args.steps, "jax": jax.__version__,
            "load_average_before": os.getloadavg()}
  report["step"] = step_rates(args.num_seeds, args.step_repeats, args.steps_per_repeat)
  report["whole_runs"] = whole_runs(args.num_seeds, args.steps)
  report["load_average_after"] = os.getloadavg()
  print(json.dumps(report, indent=2))


if __name__ == "__main__":
  main()
