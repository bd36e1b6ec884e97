"""PacGAN's Table 1 on one accelerator: all trials of a packing in one vmapped step, many steps per call.

    python scripts/reproduce_on_device.py --experiment=pacgan_grid25,pacgan_ring8 \
        --pack=1,2,3,4 --trials=10 --steps_per_dispatch=500 --out=results/pacgan --deadline_s=420
    python scripts/reproduce_on_device.py --experiment=pacgan_ring8 --pack=1,2 --trials=2 \
        --num_train_steps=40 --eval_every_steps=20 --steps_per_dispatch=10 --out=/tmp/rehearsal
    python scripts/reproduce_on_device.py --plan --pack=1,2,3,4 --assume_tflops=20   # the cost

A research script built from the library's pieces, not from the training loop: the config of
configs/<experiment>.py (ml_collections must be importable; carry its pure-Python wheel to a
machine without it), `train_state.state_from_config`, `train_step.train_step` with
`StepOptions.from_config`, `seeds.map_train_step` for the trials, `data_parallel.
parallelize_train_step(multi_step=True)` for --steps_per_dispatch steps per call, the data of
`synthetic.toy2d_batches` (trial k: seed config.seed + k) and `evaluation.Evaluator` (2,500
samples). Trial k is therefore seed k of `main.py --config=configs/<experiment>.py
--config.pack=m --config.num_seeds=<trials>` (tests/test_reproduce_on_device.py checks the
evaluations agree), without the loop's checkpoints, pictures or non-finite checks.

Writes, as they finish: <out>/<experiment>_pack<m>/trial_<k>/step_XXXXXX.json (the evaluator's
record), <out>/<experiment>_pack<m>/summary.json (each evaluation's per-trial metrics and their
mean and standard error) and, at the end of each packing, its trials' scatter plots; one JSON line
per evaluation on stdout. --deadline_s stops between calls (after an evaluation of the step
reached) so that a time limit still returns what was done.
"""

import argparse
import functools
import importlib
import json
import os
import sys
import time

if __package__ in (None, ""):  # Run as a script: make `gan_jax` and `configs` importable.
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # pylint: disable=g-import-not-at-top
import numpy as np

from gan_jax import data_parallel, images, schedule, seeds, train_state, train_step
from gan_jax.data import synthetic
from gan_jax.data.settings import DataSettings
from gan_jax.evaluation import Evaluator, mixtures

EXPERIMENTS = ("pacgan_grid25", "pacgan_ring8")
METRICS = ("modes_captured", "high_quality_fraction", "reverse_kl")


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--experiment", default="pacgan_grid25",
                      help=f"Comma-separated, of {EXPERIMENTS}.")
  parser.add_argument("--pack", default="1,2,3,4", help="Packings m (1: the GAN), comma-separated.")
  parser.add_argument("--trials", type=int, default=10, help="Trials per packing (the paper: 10).")
  parser.add_argument("--num_train_steps", type=int, default=None,
                      help="Default: the config's (PacGAN: 400,000).")
  parser.add_argument("--eval_every_steps", type=int, default=None,
                      help="Default: the config's.")
  parser.add_argument("--steps_per_dispatch", type=int, default=500,
                      help="Steps per jitted call; must divide --eval_every_steps.")
  parser.add_argument("--deadline_s", type=float, default=None,
                      help="Stop starting calls after this many seconds (results so far kept).")
  parser.add_argument("--plan", action="store_true",
                      help="Train nothing: compile each packing's step and print what the "
                      "budget costs (XLA's FLOPs) and, with --assume_tflops, how long it takes.")
  parser.add_argument("--assume_tflops", type=float, default=None,
                      help="--plan: the sustained TFLOP/s the device reaches on these steps.")
  parser.add_argument("--out", default=None, help="Output folder (not needed with --plan).")
  args = parser.parse_args(argv)
  args.experiment = args.experiment.split(",")
  args.pack = [int(p) for p in args.pack.split(",")]
  for name in args.experiment:
    if name not in EXPERIMENTS:
      parser.error(f"--experiment={name} is not one of {EXPERIMENTS}.")
  if min(args.pack) < 1 or args.trials < 1 or args.steps_per_dispatch < 1:
    parser.error("--pack, --trials and --steps_per_dispatch must be positive.")
  if not args.plan and not args.out:
    parser.error("--out is required (or --plan).")
  return args


def experiment_config(name, pack, trials, args):
  config = importlib.import_module(f"configs.{name}").get_config()
  config.pack = pack
  config.num_seeds = trials
  config.steps_per_dispatch = args.steps_per_dispatch
  if args.num_train_steps:
    config.num_train_steps = args.num_train_steps
  if args.eval_every_steps:
    config.eval_every_steps = args.eval_every_steps
  if config.eval_every_steps % args.steps_per_dispatch:
    raise SystemExit(f"error: --steps_per_dispatch={args.steps_per_dispatch} must divide the "
                     f"evaluation interval ({config.eval_every_steps} steps).")
  return config


def device_batches(config, mesh):
  """[steps_per_dispatch, trials, rows, 2] batches on the devices, trial k from seed config.seed + k."""
  toy2d = DataSettings.from_config(config.data).toy2d
  options = train_step.StepOptions.from_config(config)
  rows = train_step.rows_per_step(config)
  streams = [synthetic.toy2d_batches(toy2d, seed, rows, options.generator_groups)(0)
             for seed in seeds.seeds_of(config)]
  batches = ({"image": b["image"]} for b in seeds.stack_batches(streams))
  batches = schedule.stack_batches(batches, 0, config.num_train_steps, config.steps_per_dispatch)
  sharding = data_parallel.batch_sharded(mesh, seed_axis=True, multi_step=True)
  return data_parallel.prefetch_to_device(batches, sharding)


def standard_error(values):
  values = np.asarray(values, np.float64)
  return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def evaluate_trials(evaluator, state, trials, folder, step):
  """Each trial's evaluation (the loop's definitions), saved; {metric: [value per trial]}."""
  per_trial = {name: [] for name in METRICS}
  results = []
  for k in range(trials):
    trial = seeds.select(state, k)
    sample = lambda rng, n, trial=trial: train_state.generate(trial, trial.draw_latents(rng, n))
    result = evaluator.evaluate(sample)
    result.save(os.path.join(folder, f"trial_{k}", f"step_{step:06d}.json"))
    for name in METRICS:
      per_trial[name].append(float(result.scalars[name]))
    results.append(result)
  return per_trial, results


def build_packing(name, pack, args):
  """(config, mesh, the trials' stacked initial state, the jitted multi-step step, train rng)."""
  config = experiment_config(name, pack, args.trials, args)
  mesh = data_parallel.create_mesh()
  init_rng, train_rng, _ = seeds.stacked_keys(seeds.seeds_of(config))
  build = functools.partial(train_state.state_from_config, config, (2,))
  state = jax.jit(jax.vmap(build), out_shardings=data_parallel.replicated(mesh))(init_rng)
  step_fn = data_parallel.parallelize_train_step(
      seeds.map_train_step(functools.partial(
          train_step.train_step, options=train_step.StepOptions.from_config(config))),
      mesh, seed_axis=True, multi_step=True)
  return config, mesh, state, step_fn, train_rng


def plan_packing(name, pack, args):
  """What the budget of one packing costs: XLA's FLOPs of one step of all trials (a scan's body
  counts once, so one call's count is one step's), times the steps."""
  config, mesh, state, step_fn, train_rng = build_packing(name, pack, args)
  batch = next(device_batches(config, mesh))
  flops = data_parallel.compiled_flops(step_fn.lower(state, batch, train_rng).compile())
  total = flops * config.num_train_steps if flops else None
  record = {"plan": name, "pack": pack, "trials": args.trials,
            "num_train_steps": config.num_train_steps,
            "gflop_per_trial_step": round(flops / args.trials / 1e9, 4) if flops else None,
            "pflop_total": float(f"{total / 1e15:.6g}") if total else None}
  if total and args.assume_tflops:
    record["seconds_at_assumed_tflops"] = float(f"{total / (args.assume_tflops * 1e12):.6g}")
  print(json.dumps(record), flush=True)
  return record


def run_packing(name, pack, args, start_time):
  """Trains `args.trials` GANs of `name` at packing `pack`; returns its summary (also saved)."""
  config, mesh, state, step_fn, train_rng = build_packing(name, pack, args)
  folder = os.path.join(args.out, f"{name}_pack{pack}")
  os.makedirs(folder, exist_ok=True)
  evaluator = Evaluator(config.data.name, mixture=mixtures.from_data_config(config.data),
                        num_samples=config.evaluation.num_samples, seed=config.seed)
  batches = device_batches(config, mesh)
  summary = {"experiment": name, "pack": pack, "trials": args.trials,
             "num_train_steps": config.num_train_steps, "device": jax.devices()[0].device_kind,
             "steps_per_dispatch": config.steps_per_dispatch, "evaluations": []}
  results = []
  train_seconds = 0.0
  for step, _ in schedule.dispatches(0, config.num_train_steps, config.steps_per_dispatch):
    start = time.perf_counter()
    state, _ = step_fn(state, next(batches), train_rng)
    jax.block_until_ready(state)
    train_seconds += time.perf_counter() - start
    late = args.deadline_s is not None and time.perf_counter() - start_time > args.deadline_s
    if step % config.eval_every_steps and step != config.num_train_steps and not late:
      continue
    per_trial, results = evaluate_trials(evaluator, state, args.trials, folder, step)
    record = {"step": step, "train_seconds": round(train_seconds, 2),
              "wall_seconds": round(time.perf_counter() - start_time, 2),
              **{f"{m}_mean": float(np.mean(v)) for m, v in per_trial.items()},
              **{f"{m}_stderr": standard_error(v) for m, v in per_trial.items()},
              "per_trial": per_trial}
    summary["evaluations"].append(record)
    with open(os.path.join(folder, "summary.json"), "w") as f:
      json.dump(summary, f, indent=1)
    print(json.dumps({"experiment": name, "pack": pack, **record}), flush=True)
    if late:
      summary["stopped_by_deadline"] = True
      break
  for k, result in enumerate(results):
    for key, picture in result.images.items():
      images.save_png(picture, os.path.join(folder, f"trial_{k}", f"{key}.png"))
  with open(os.path.join(folder, "summary.json"), "w") as f:
    json.dump(summary, f, indent=1)
  return summary


def main(argv=None):
  args = parse_args(argv)
  start_time = time.perf_counter()
  print(f"# {json.dumps({'devices': [str(d) for d in jax.devices()], 'jax': jax.__version__})}",
        flush=True)
  if args.plan:
    records = [plan_packing(name, pack, args) for name in args.experiment for pack in args.pack]
    total = sum(r["pflop_total"] or 0 for r in records)
    print(json.dumps({"plan_total_pflop": float(f"{total:.6g}"), **(
        {"seconds_at_assumed_tflops": float(f"{total * 1e3 / args.assume_tflops:.6g}")}
        if args.assume_tflops else {})}), flush=True)
    return
  for name in args.experiment:
    for pack in args.pack:
      if args.deadline_s is not None and time.perf_counter() - start_time > args.deadline_s:
        print(json.dumps({"skipped": f"{name} pack {pack}", "reason": "deadline"}), flush=True)
        continue
      run_packing(name, pack, args, start_time)


if __name__ == "__main__":
  main()
