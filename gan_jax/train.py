"""The training loop: `train_and_evaluate(config, workdir)`.

Reads like a script: load data, build models and optimizers, restore the newest checkpoint,
then loop over the jitted data-parallel step, with summaries, sample grids and checkpoints as
periodic side work. Everything a run writes goes under `workdir`.
"""

import functools
import glob
import json
import logging
import os
import signal

import jax
import jax.numpy as jnp
import numpy as np
from clu import metric_writers, periodic_actions
from jax.experimental import multihost_utils

from gan_jax import checkpointing, config_validation, data_parallel, images, input_pipeline
from gan_jax import nonfinite, optimizers, seeds, train_state, train_step
from gan_jax.errors import UserError
from gan_jax.evaluation import evaluator as evaluator_lib
from gan_jax.evaluation import mixtures, plots
from gan_jax.evaluation import reference as reference_lib
from gan_jax.models import registry

def prepare_workdir(workdir):
  """Creates `workdir` and proves it is writable before any work starts."""
  try:
    os.makedirs(os.path.join(workdir, "samples"), exist_ok=True)
    probe = os.path.join(workdir, f".write_test.{jax.process_index()}")
    with open(probe, "w") as f:
      f.write("ok")
    os.remove(probe)
  except OSError as e:
    raise UserError(f"--workdir={workdir!r} is not writable ({e.strerror}); choose a folder you "
                    "can write to.") from e


def check_same_run(config, workdir):
  """Refuses to resume a workdir whose checkpoints were trained under a different config."""
  saved_path = os.path.join(workdir, "config.json")
  checkpoint_dir = os.path.join(workdir, "checkpoints")
  has_checkpoints = os.path.isdir(checkpoint_dir) and any(
      name.isdigit() for name in os.listdir(checkpoint_dir))
  if not (has_checkpoints and os.path.exists(saved_path)):
    return
  with open(saved_path) as f:
    saved = json.load(f)
  differences = config_validation.resume_differences(saved, config)
  if differences:
    raise UserError(
        f"--workdir={workdir!r} holds checkpoints of a run with a different config:\n"
        + "\n".join(differences) + "\nResume with the saved config (" + saved_path + "), or "
        "pass a new --workdir for the new config.")


def build_state(config, image_shape, rng, num_classes=0):
  """Models, optimizers and the initial `GANState` for `config` (conditional on `num_classes`
  classes when > 0)."""
  generator, discriminator = registry.create_models(
      config.model, image_shape, num_classes, dtype=config.get("dtype", "float32"))
  generator_tx, discriminator_tx = optimizers.create_optimizers(config)
  return train_state.create_train_state(
      rng, generator, discriminator, generator_tx, discriminator_tx,
      latent_dim=config.model.latent_dim, image_shape=image_shape,
      pack=config.get("pack", 1), ema_decay=config.get("ema_decay"))


def conditioning_classes(config, info):
  """Number of classes the networks are conditioned on: 0 unless config.conditional."""
  if not config.get("conditional"):
    return 0
  if not info.num_classes or info.num_classes < 2:
    raise UserError(f"config.conditional=True but {info.source} has no class labels; use a "
                    "labelled dataset (mnist, fashion_mnist, rock_paper_scissors, ...) or set "
                    "--config.conditional=False.")
  return info.num_classes


@functools.partial(jax.jit, static_argnums=0)
def _generate(module, variables, z, labels):
  return module.apply(variables, z, *(() if labels is None else (labels,)), train=False)


def generate(state, z, labels=None):
  """Generator output for latents z (and class labels, if conditional), with the EMA weights when
  the state keeps them; BatchNorm in inference mode (moving statistics)."""
  return _generate(state.generator.module, state.generator.inference_variables(), z, labels)


def class_grid_inputs(fixed_z, num_classes):
  """(z, labels) of a grid with one row per class and the same latents in every row."""
  num_columns = max(1, fixed_z.shape[0] // num_classes)
  z = jnp.tile(fixed_z[:num_columns], (num_classes, 1))
  return z, jnp.repeat(jnp.arange(num_classes, dtype=jnp.int32), num_columns)


def _nonfinite_error(step, metrics):
  bad = ", ".join(f"{k}={v}" for k, v in metrics.items() if not np.isfinite(v))
  return UserError(
      f"Non-finite training metrics at step {step}: {bad}. The run stopped without saving this "
      "state; the newest checkpoint in the workdir is the last good one. Lower the learning "
      "rates or change the seed, then resume (or set --config.nonfinite_policy=skip to skip "
      "such updates and count them).")


class PreemptionNotice:
  """Turns SIGTERM (what cloud VMs send before preemption) into a flag the loop checks per step.

  With several processes, JAX's own preemption service (started by `jax.distributed`) agrees on
  one step for all of them; a single process installs its own handler.
  """

  def __init__(self):
    self._received = False
    self._previous = None

  def __enter__(self):
    if jax.process_count() == 1:
      try:
        self._previous = signal.signal(signal.SIGTERM, self._handle)
      except ValueError:  # Not the main thread: leave signals to the caller.
        self._previous = None
    return self

  def _handle(self, signum, frame):
    del signum, frame
    logging.warning("SIGTERM received: finishing this step, saving a checkpoint, exiting.")
    self._received = True

  def reached(self, step):
    if jax.process_count() > 1:
      return multihost_utils.reached_preemption_sync_point(step)
    return self._received

  def __exit__(self, *exc_info):
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)


def write_sample_grid(state, fixed_z, step, workdir, writer, value_range, mixture=None):
  """Every process generates (the state is global); process 0 writes the PNG and summary.

  A conditional generator's grid has one row per class, the same latents in every row. For 2-D
  points (`mixture` given) the "grid" is a scatter plot over the mixture's centres.
  """
  num_classes = getattr(state.generator.module, "num_classes", 0)
  if mixture is not None:
    grid = plots.mixture_scatter_image(np.asarray(generate(state, fixed_z)), mixture,
                                       title=f"step {step}")
  elif num_classes:
    z, labels = class_grid_inputs(fixed_z, num_classes)
    grid = images.make_grid(images.to_uint8(generate(state, z, labels), value_range),
                            num_rows=num_classes)
  else:
    grid = images.make_grid(images.to_uint8(generate(state, fixed_z), value_range))
  if jax.process_index() == 0:
    images.save_png(grid, os.path.join(workdir, "samples", f"step_{step:06d}.png"))
  writer.write_images(step, {"samples": grid[None]})


def global_normal(rng, shape, sharding):
  """N(0, I) latents as one global array (the same on every process), ready for `generate`."""
  return jax.jit(lambda key: jax.random.normal(key, shape), out_shardings=sharding)(rng)


def write_seed_sample_grids(state, fixed_z, step, workdir, writer, value_range):
  """`write_sample_grid` for K seeds: samples/seed_<k>/step_XXXXXX.png for each seed, and the K
  grids side by side (seed 0 on the left) as samples/step_XXXXXX.png and in TensorBoard."""
  grids = [images.make_grid(images.to_uint8(
      generate(seeds.select(state, k), fixed_z[k]), value_range)) for k in range(len(fixed_z))]
  side_by_side = images.make_grid(np.stack(grids), num_rows=1, padding=8)
  if jax.process_index() == 0:
    for k, grid in enumerate(grids):
      os.makedirs(os.path.join(workdir, "samples", f"seed_{k}"), exist_ok=True)
      images.save_png(grid, os.path.join(workdir, "samples", f"seed_{k}", f"step_{step:06d}.png"))
    images.save_png(side_by_side, os.path.join(workdir, "samples", f"step_{step:06d}.png"))
  writer.write_images(step, {"samples": side_by_side[None]})


def evaluation_dataset(config, image_shape):
  """The evaluator's name for the run's data, or None when no feature extractor fits it."""
  data = config.data
  if data.get("source") == "stacked_mnist" or data.name == "stacked_mnist":
    return "stacked_mnist"
  if data.get("source") == "toy2d" or data.name == "toy2d":
    return "toy2d"
  if data.name in evaluator_lib.CLASS_NAMES and tuple(image_shape) == (28, 28, 1):
    return data.name
  if config.evaluation.get("inception_weights"):
    return data.name
  return None


def create_evaluator(config, image_shape):
  """The run's `Evaluator` (reference statistics computed once), or None if it has none."""
  if not config.get("eval_every_steps"):
    return None
  dataset = evaluation_dataset(config, image_shape)
  if dataset is None:
    logging.warning("No evaluation for %s at %s: the shipped classifiers cover 28x28 MNIST and "
                    "Fashion-MNIST; set config.evaluation.inception_weights for FID.",
                    config.data.name, tuple(image_shape))
    return None
  evaluation = config.evaluation
  reference, split = reference_lib.load_reference(
      dataset, evaluation.get("reference_split"), config.data.get("data_dir"),
      evaluation.num_reference, config.seed)
  extractor = "inception" if evaluation.get("inception_weights") else "classifier"
  return evaluator_lib.Evaluator(
      dataset, reference, num_samples=evaluation.get("num_samples"),
      value_range=tuple(config.data.value_range), reference_split=split, extractor=extractor,
      inception_weights=evaluation.get("inception_weights"), seed=config.seed,
      mixture=mixtures.from_data_config(config.data) if dataset == "toy2d" else None)


def write_evaluation(evaluator, state, step, workdir, writer, sharding):
  """Every metric of the evaluator to TensorBoard ("eval/...") and evaluation/step_XXXXXX.json."""
  num_classes = getattr(state.generator.module, "num_classes", 0)

  def sample(rng, num):
    z = global_normal(rng, (num, state.latent_dim), sharding)
    # A conditional generator is evaluated on uniformly drawn classes.
    labels = jax.jit(lambda key: jax.random.randint(key, (num,), 0, num_classes),
                     out_shardings=sharding)(jax.random.fold_in(rng, 1)) if num_classes else None
    return generate(state, z, labels)

  result = evaluator.evaluate(sample)
  writer.write_scalars(step, {f"eval/{k}": v for k, v in result.scalars.items()})
  if result.images:
    writer.write_images(step, {f"eval/{k}": v[None] for k, v in result.images.items()})
  if jax.process_index() == 0:
    result.save(os.path.join(workdir, "evaluation", f"step_{step:06d}.json"))
  logging.info("Evaluation at step %d: %s", step,
               ", ".join(f"{k}={v:.4g}" for k, v in result.scalars.items()))
  return result


def dispatches(start_step, num_train_steps, steps_per_dispatch):
  """(step reached, steps run) of each jitted call of the loop.

  A call runs up to the next multiple of `steps_per_dispatch` (never past the end), so every
  interval end (a multiple of it) is a call's end, also when a run resumes at another step.
  """
  step = start_step
  while step < num_train_steps:
    num_steps = min(steps_per_dispatch - step % steps_per_dispatch, num_train_steps - step)
    step += num_steps
    yield step, num_steps


def stack_batches(batches, start_step, num_train_steps, steps_per_dispatch):
  """Consecutive per-step batches stacked [steps, ...], one stack per `dispatches` entry."""
  for _, num_steps in dispatches(start_step, num_train_steps, steps_per_dispatch):
    group = [next(batches) for _ in range(num_steps)]
    yield jax.tree_util.tree_map(lambda *xs: np.stack(xs), *group)


def write_seed_evaluations(evaluator, state, step, workdir, writer, sharding):
  """`write_evaluation` for K seeds: each seed's metrics ("eval/seed_<k>/...",
  evaluation/seed_<k>/step_XXXXXX.json), their mean and std over the seeds ("eval/mean/...",
  "eval/std/...", evaluation/step_XXXXXX.json) and one log line of mean ± std."""
  num = int(state.step.shape[0])
  results = []
  for k in range(num):
    seed_state = seeds.select(state, k)
    results.append(evaluator.evaluate(lambda rng, n, s=seed_state: generate(
        s, global_normal(rng, (n, s.latent_dim), sharding))))
  scalars = {f"eval/seed_{k}/{name}": v for k, r in enumerate(results)
             for name, v in r.scalars.items()}
  summary = seeds.mean_and_std([r.scalars for r in results])
  scalars.update({f"eval/mean/{name}": mean for name, (mean, _) in summary.items()})
  scalars.update({f"eval/std/{name}": std for name, (_, std) in summary.items()})
  writer.write_scalars(step, scalars)
  if jax.process_index() == 0:
    for k, result in enumerate(results):
      result.save(os.path.join(workdir, "evaluation", f"seed_{k}", f"step_{step:06d}.json"))
    with open(os.path.join(workdir, "evaluation", f"step_{step:06d}.json"), "w") as f:
      json.dump({"step": step, "num_seeds": num,
                 "mean": {name: mean for name, (mean, _) in summary.items()},
                 "std": {name: std for name, (_, std) in summary.items()},
                 "per_seed": [r.scalars for r in results]}, f, indent=2, allow_nan=True)
  logging.info("Evaluation at step %d, mean ± std over %d seeds: %s", step, num,
               ", ".join(f"{name}={mean:.4g} ± {std:.2g}" for name, (mean, std) in summary.items()))
  return results


def save_config(config, workdir):
  """Writes `config.json` (process 0), atomically: other processes may be reading it."""
  if jax.process_index() != 0:
    return
  path = os.path.join(workdir, "config.json")
  with open(path + ".tmp", "w") as f:
    f.write(config.to_json_best_effort(indent=2))
  os.replace(path + ".tmp", path)


def train_and_evaluate(config, workdir):
  """Trains the GAN of `config`, writing checkpoints, summaries and samples under `workdir`.

  Args:
    config: a ConfigDict as in `configs/`.
    workdir: output folder; a run resumes from the newest checkpoint found there.

  Returns:
    The final `GANState`.
  """
  config_validation.validate_config(config, jax.device_count())
  prepare_workdir(workdir)
  check_same_run(config, workdir)
  logging.info("JAX process %d of %d, %d local devices (%s).", jax.process_index(),
               jax.process_count(), jax.local_device_count(), jax.devices()[0].platform)

  # Load dataset. Each step's discriminator updates take their own real batch; with
  # pack_batch="inputs" a batch is batch_size packs of `pack` samples (PacGAN's code).
  pack = config.get("pack", 1)
  packs_in_rows = pack if config.get("pack_batch", "samples") == "inputs" else 1
  images_per_step = config.batch_size * config.n_discriminator_steps * packs_in_rows
  train_input = input_pipeline.create_train_input(config.data, images_per_step, seed=config.seed,
                                                  pack=packs_in_rows)
  value_range = tuple(config.data.value_range)
  # Many seeds: seed k has the data stream of a run with seed config.seed + k (gan_jax/seeds.py).
  num_seeds = seeds.num_seeds(config)
  seed_inputs = [train_input] + [
      input_pipeline.create_train_input(config.data, images_per_step, seed=seed,
                                        pack=packs_in_rows)
      for seed in seeds.seeds_of(config)[1:]]

  # Build model and optimizer.
  rng = jax.random.key(config.seed)
  init_rng, train_rng, sample_rng = jax.random.split(rng, 3)
  if num_seeds > 1:  # The same three keys for each seed, stacked [K].
    init_rng, train_rng, sample_rng = seeds.stacked_keys(seeds.seeds_of(config))
  mesh = data_parallel.create_mesh()
  replicated = data_parallel.replicated(mesh)
  # Built by a jitted function with replicated outputs: each process holds its part of one
  # global state (with one process, simply the state on every device).
  num_classes = conditioning_classes(config, train_input.info)
  build = functools.partial(build_state, config, train_input.info.image_shape,
                            num_classes=num_classes)
  state = jax.jit(build if num_seeds == 1 else jax.vmap(build),
                  out_shardings=replicated)(init_rng)
  checkpointer = checkpointing.Checkpointer(
      os.path.join(os.path.abspath(workdir), "checkpoints"), config.checkpoint_every_steps,
      config.keep_checkpoints)
  state = checkpointer.restore_latest(state)
  start_step = int(np.asarray(state.step).flat[0])  # With K seeds, K equal steps.
  save_config(config, workdir)

  # This process's rows of each global batch, put on the devices two batches ahead; with
  # several steps per dispatch, stacked [steps, ...] per jitted call.
  steps_per_dispatch = config.get("steps_per_dispatch", 1)
  keys = ("image", "label") if num_classes else ("image",)
  local_batches = (train_input.batches(start_step) if num_seeds == 1 else
                   seeds.stack_batches([i.batches(start_step) for i in seed_inputs]))
  local_batches = ({key: b[key] for key in keys} for b in local_batches)
  if steps_per_dispatch > 1:
    local_batches = stack_batches(local_batches, start_step, config.num_train_steps,
                                  steps_per_dispatch)
  batches = data_parallel.prefetch_to_device(
      local_batches, data_parallel.batch_sharded(mesh, seed_axis=num_seeds > 1,
                                                 multi_step=steps_per_dispatch > 1))
  step_impl = functools.partial(
      train_step.train_step, loss=config.loss, generator_loss=config.generator_loss,
      gradient_penalty_weight=config.gradient_penalty_weight,
      n_discriminator_steps=config.n_discriminator_steps, pack=pack,
      update_order=config.update_order, generator_groups=packs_in_rows)
  if config.get("nonfinite_policy", "stop") == "skip":
    step_impl = nonfinite.skip_nonfinite_updates(step_impl)
  if num_seeds > 1:
    step_impl = seeds.vmap_train_step(step_impl)
  step_fn = data_parallel.parallelize_train_step(step_impl, mesh, seed_axis=num_seeds > 1,
                                                 multi_step=steps_per_dispatch > 1)
  latent_shape = (config.num_sample_images, config.model.latent_dim)
  fixed_z = (global_normal(sample_rng, latent_shape, replicated) if num_seeds == 1 else
             jax.jit(jax.vmap(lambda key: jax.random.normal(key, latent_shape)),
                     out_shardings=replicated)(sample_rng))
  evaluate = write_evaluation if num_seeds == 1 else write_seed_evaluations
  evaluator = create_evaluator(config, train_input.info.image_shape)
  # 2-D points are shown as a scatter plot over the mixture instead of an image grid.
  mixture = (mixtures.from_data_config(config.data)
             if evaluation_dataset(config, train_input.info.image_shape) == "toy2d" else None)
  write_samples = (functools.partial(write_sample_grid, mixture=mixture) if num_seeds == 1 else
                   write_seed_sample_grids)

  writer = metric_writers.create_default_writer(workdir, just_logging=jax.process_index() > 0)
  report_progress = periodic_actions.ReportProgress(
      num_train_steps=config.num_train_steps, writer=writer)
  if start_step == 0:
    write_samples(state, fixed_z, 0, workdir, writer, value_range)

  # Main train loop.
  logging.info("Training from step %d to %d.", start_step, config.num_train_steps)
  interval = nonfinite.init_interval()
  num_skipped = 0
  with PreemptionNotice() as preemption:
    for step, num_steps in dispatches(start_step, config.num_train_steps, steps_per_dispatch):
      # The step is donated: `state` is rebound to the result, the old buffers are gone.
      with jax.profiler.StepTraceAnnotation("train", step_num=step):
        state, metrics = step_fn(state, next(batches), train_rng)
      # Accumulated on device: no host sync until the metrics are written.
      if steps_per_dispatch > 1:
        interval = nonfinite.accumulate_steps(interval, metrics, step - num_steps + 1)
      else:
        interval = nonfinite.accumulate(interval, metrics, step)
      report_progress(step)

      # Every step of the dispatch is offered to the (multi-process) preemption sync point.
      preempted = any([preemption.reached(s) for s in range(step - num_steps + 1, step + 1)])
      is_last = step == config.num_train_steps or preempted
      log_due = step % config.log_every_steps == 0 or is_last
      checkpoint_due = step % config.checkpoint_every_steps == 0 or is_last
      if log_due or checkpoint_due:
        means, num_bad, first_bad, bad_metrics = nonfinite.summarize(interval)
        if first_bad is not None and config.get("nonfinite_policy", "stop") == "stop":
          raise _nonfinite_error(first_bad, bad_metrics)
        if log_due:
          num_skipped += num_bad
          scalars = {f"train/{k}": v for k, v in means.items()}
          if config.get("nonfinite_policy", "stop") == "skip":
            scalars["train/skipped_updates"] = num_skipped
          writer.write_scalars(step, scalars)
          interval = nonfinite.init_interval()
      if step % config.sample_every_steps == 0 or is_last:
        with report_progress.timed("samples"):
          write_samples(state, fixed_z, step, workdir, writer, value_range)
      if evaluator is not None and not preempted and (
          step % config.eval_every_steps == 0 or is_last):
        with report_progress.timed("eval"):
          evaluate(evaluator, state, step, workdir, writer, replicated)
      if checkpoint_due:
        with report_progress.timed("checkpoint"):
          checkpointer.save(step, state, force=is_last)
      if preempted:
        logging.warning("Preempted: saved the checkpoint of step %d; run the same command to "
                        "resume.", step)
        break

  checkpointer.close()
  writer.flush()
  frames = sorted(glob.glob(os.path.join(workdir, "samples", "step_*.png")))
  if frames and jax.process_index() == 0:
    gif = images.save_gif(frames, os.path.join(workdir, "samples", "training.gif"))
    logging.info("Samples: %s (progress GIF: %s).", os.path.dirname(gif), gif)
  return state
