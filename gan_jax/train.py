"""The training loop: `train_and_evaluate(config, workdir)`.

Reads like a script: load data, build models and optimizers, restore the newest checkpoint,
then loop over the jitted data-parallel step, with summaries, sample grids and checkpoints as
periodic side work. Everything a run writes goes under `workdir`.
"""

import functools
import glob
import json
import logging
import math
import os

import jax
import jax.numpy as jnp
import numpy as np
from clu import metric_writers, periodic_actions

from gan_jax import checkpointing, config_validation, data_parallel, images, input_pipeline
from gan_jax import optimizers, train_state, train_step
from gan_jax.errors import UserError
from gan_jax.models import registry

def prepare_workdir(workdir):
  """Creates `workdir` and proves it is writable before any work starts."""
  try:
    os.makedirs(os.path.join(workdir, "samples"), exist_ok=True)
    probe = os.path.join(workdir, ".write_test")
    with open(probe, "w") as f:
      f.write("ok")
    os.remove(probe)
  except OSError as e:
    raise UserError(f"--workdir={workdir!r} is not writable ({e.strerror}); choose a folder you "
                    "can write to.") from e


def build_state(config, image_shape, rng):
  """Models, optimizers and the initial `GANState` for `config`."""
  generator, discriminator = registry.create_models(config.model, image_shape)
  generator_tx, discriminator_tx = optimizers.create_optimizers(config)
  return train_state.create_train_state(
      rng, generator, discriminator, generator_tx, discriminator_tx,
      latent_dim=config.model.latent_dim, image_shape=image_shape)


@functools.partial(jax.jit, static_argnums=0)
def _generate(module, variables, z):
  return module.apply(variables, z, train=False)


def generate(state, z):
  """Generator output for latents z, BatchNorm in inference mode (moving statistics)."""
  return _generate(state.generator.module, state.generator.variables(), z)


def _check_finite(step, metrics):
  bad = {k: v for k, v in metrics.items() if not math.isfinite(v)}
  if bad:
    raise UserError(
        f"Non-finite training metrics at step {step}: {bad}. The run stopped without saving this "
        "state; the newest checkpoint in the workdir is the last good one. Lower the learning "
        "rates or change the seed, then resume.")


def write_sample_grid(state, fixed_z, step, workdir, writer, value_range):
  """Saves the fixed-noise samples as a PNG grid; `value_range` is the generator's output range."""
  grid = images.make_grid(images.to_uint8(generate(state, fixed_z), value_range))
  path = os.path.join(workdir, "samples", f"step_{step:06d}.png")
  images.save_png(grid, path)
  writer.write_images(step, {"samples": grid[None]})
  return path


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
  logging.info("JAX process %d of %d, %d local devices (%s).", jax.process_index(),
               jax.process_count(), jax.local_device_count(), jax.devices()[0].platform)

  # Load dataset.
  arrays = input_pipeline.load_arrays(config.data.name, config.data.split,
                                      config.data.data_dir)

  # Build model and optimizer.
  rng = jax.random.key(config.seed)
  init_rng, train_rng, sample_rng = jax.random.split(rng, 3)
  mesh = data_parallel.create_mesh()
  state = jax.device_put(build_state(config, arrays.image_shape, init_rng),
                         data_parallel.replicated(mesh))
  checkpointer = checkpointing.Checkpointer(
      os.path.join(os.path.abspath(workdir), "checkpoints"), config.checkpoint_every_steps,
      config.keep_checkpoints)
  state = checkpointer.restore_latest(state)
  start_step = int(state.step)
  with open(os.path.join(workdir, "config.json"), "w") as f:
    f.write(config.to_json_best_effort(indent=2))

  images_per_step = config.batch_size * config.n_discriminator_steps
  dataset = input_pipeline.create_dataset(
      arrays, images_per_step, seed=config.seed, start_step=start_step,
      value_range=tuple(config.data.value_range))
  batches = data_parallel.prefetch_to_device(
      ({"image": b["image"]} for b in dataset.as_numpy_iterator()),
      data_parallel.batch_sharded(mesh))
  step_fn = data_parallel.parallelize_train_step(
      functools.partial(train_step.train_step, loss=config.loss,
                        generator_loss=config.generator_loss,
                        gradient_penalty_weight=config.gradient_penalty_weight,
                        n_discriminator_steps=config.n_discriminator_steps), mesh)
  fixed_z = jax.random.normal(sample_rng, (config.num_sample_images, config.model.latent_dim))

  writer = metric_writers.create_default_writer(workdir, just_logging=jax.process_index() > 0)
  report_progress = periodic_actions.ReportProgress(
      num_train_steps=config.num_train_steps, writer=writer)
  if start_step == 0:
    write_sample_grid(state, fixed_z, 0, workdir, writer, config.data.value_range)

  # Main train loop.
  logging.info("Training from step %d to %d.", start_step, config.num_train_steps)
  metrics_sum, steps_summed = None, 0
  for step in range(start_step + 1, config.num_train_steps + 1):
    is_last = step == config.num_train_steps
    with jax.profiler.StepTraceAnnotation("train", step_num=step):
      state, metrics = step_fn(state, next(batches), train_rng)
    # Summed on device: no host sync until the metrics are written.
    metrics_sum = metrics if metrics_sum is None else jax.tree_util.tree_map(
        jnp.add, metrics_sum, metrics)
    steps_summed += 1
    report_progress(step)

    checkpoint_due = step % config.checkpoint_every_steps == 0 or is_last
    if step % config.log_every_steps == 0 or checkpoint_due:
      averaged = {k: float(v) / steps_summed for k, v in jax.device_get(metrics_sum).items()}
      _check_finite(step, averaged)
      if step % config.log_every_steps == 0 or is_last:
        writer.write_scalars(step, {f"train/{k}": v for k, v in averaged.items()})
        metrics_sum, steps_summed = None, 0
    if step % config.sample_every_steps == 0 or is_last:
      with report_progress.timed("samples"):
        write_sample_grid(state, fixed_z, step, workdir, writer, config.data.value_range)
    if checkpoint_due:
      with report_progress.timed("checkpoint"):
        checkpointer.save(step, state, force=is_last)

  checkpointer.close()
  writer.flush()
  frames = sorted(glob.glob(os.path.join(workdir, "samples", "step_*.png")))
  if frames:
    gif = images.save_gif(frames, os.path.join(workdir, "samples", "training.gif"))
    logging.info("Samples: %s (progress GIF: %s).", os.path.dirname(gif), gif)
  return state
