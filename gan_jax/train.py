"""The training loop: `train_and_evaluate(config, workdir)`.

Reads like a script: load data, build models and optimizers, restore the newest checkpoint,
then loop over the jitted data-parallel step, with summaries, sample pictures, evaluations and
checkpoints as periodic side work (`gan_jax.reporting`, `gan_jax.schedule`). Everything a run
writes goes under `workdir` (`gan_jax.workdir`).
"""

import functools
import logging

import jax
import ml_collections
import numpy as np
from clu import metric_writers, periodic_actions

from gan_jax import checkpointing, config_validation, data_parallel, input_pipeline
from gan_jax import nonfinite, reporting, schedule, seeds, train_state, train_step
from gan_jax import workdir as workdir_lib
from gan_jax.preemption import PreemptionNotice


def _step_function(config, mesh):
  """The jitted data-parallel step of `config`: non-finite guard, K seeds, k steps per call."""
  step = functools.partial(train_step.train_step,
                           options=train_step.StepOptions.from_config(config))
  if config.nonfinite_policy == "skip":
    step = nonfinite.skip_nonfinite_updates(step)
  if config.num_seeds > 1:
    step = seeds.map_train_step(step)
  return data_parallel.parallelize_train_step(step, mesh, seed_axis=config.num_seeds > 1,
                                              multi_step=config.steps_per_dispatch > 1)


def _device_batches(config, train_inputs, start_step, mesh, keys):
  """This process's rows of each global batch, on the devices two batches ahead; with several
  seeds stacked [K, ...], with several steps per dispatch stacked [steps, ...]."""
  batches = (train_inputs[0].batches(start_step) if len(train_inputs) == 1 else
             seeds.stack_batches([i.batches(start_step) for i in train_inputs]))
  batches = ({key: b[key] for key in keys} for b in batches)
  if config.steps_per_dispatch > 1:
    batches = schedule.stack_batches(batches, start_step, config.num_train_steps,
                                     config.steps_per_dispatch)
  return data_parallel.prefetch_to_device(batches, data_parallel.batch_sharded(
      mesh, seed_axis=config.num_seeds > 1, multi_step=config.steps_per_dispatch > 1))


def _train_inputs(config):
  """One `TrainInput` per seed, each of the global batch one step consumes."""
  rows = train_step.rows_per_step(config)
  packs = train_step.StepOptions.from_config(config).generator_groups
  return [input_pipeline.create_train_input(config.data, rows, seed=seed, pack=packs)
          for seed in seeds.seeds_of(config)]


def _initial_state(config, image_shape, num_classes, sharding):
  """(state, train rng, sample rng): one global state, built by a jitted function with
  replicated outputs (each process holds its part; with one process, the state on every
  device); with K seeds, K states stacked, built from the same three keys per seed."""
  init_rng, train_rng, sample_rng = (
      jax.random.split(jax.random.key(config.seed), 3) if config.num_seeds == 1 else
      seeds.stacked_keys(seeds.seeds_of(config)))
  build = functools.partial(train_state.state_from_config, config, image_shape,
                            num_classes=num_classes)
  state = jax.jit(build if config.num_seeds == 1 else jax.vmap(build),
                  out_shardings=sharding)(init_rng)
  return state, train_rng, sample_rng


def train_and_evaluate(config, workdir):
  """Trains the GAN of `config`, writing checkpoints, summaries and samples under `workdir`.

  Args:
    config: a ConfigDict as in `configs/` (fields it lacks get today's defaults for older
      configs, `gan_jax.workdir.upgrade`).
    workdir: output folder; a run resumes from the newest checkpoint found there.

  Returns:
    The final `GANState`.
  """
  config = ml_collections.ConfigDict(workdir_lib.upgrade(config.to_dict()))
  config_validation.validate_config(config, jax.device_count())
  workdir_lib.prepare(workdir)
  workdir_lib.check_same_run(config, workdir)
  logging.info("JAX process %d of %d, %d local devices (%s).", jax.process_index(),
               jax.process_count(), jax.local_device_count(), jax.devices()[0].platform)

  # Load dataset. Seed k of K has the data stream of a run with seed config.seed + k.
  train_inputs = _train_inputs(config)
  info = train_inputs[0].info

  # Build model and optimizer.
  mesh = data_parallel.create_mesh()
  replicated = data_parallel.replicated(mesh)
  num_classes = train_state.conditioning_classes(config, info.num_classes, info.source)
  state, train_rng, sample_rng = _initial_state(config, info.image_shape, num_classes, replicated)
  checkpointer = checkpointing.Checkpointer(workdir_lib.checkpoint_dir(workdir),
                                            config.checkpoint_every_steps,
                                            config.keep_checkpoints)
  state = checkpointer.restore_latest(state)
  start_step = int(np.asarray(state.step).flat[0])  # With K seeds, K equal steps.
  workdir_lib.save_config(config, workdir, jax.process_index())

  batches = _device_batches(config, train_inputs, start_step, mesh,
                            ("image", "label") if num_classes else ("image",))
  step_fn = _step_function(config, mesh)
  writer = metric_writers.create_default_writer(workdir, just_logging=jax.process_index() > 0)
  reporter = reporting.Reporter(config, workdir, writer, info.image_shape, replicated,
                                sample_rng)
  report_progress = periodic_actions.ReportProgress(
      num_train_steps=config.num_train_steps, writer=writer)
  if start_step == 0:
    reporter.write_samples(state, 0)

  # Main train loop.
  logging.info("Training from step %d to %d.", start_step, config.num_train_steps)
  interval = nonfinite.IntervalMetrics(config.nonfinite_policy)
  with PreemptionNotice() as preemption:
    for step, num_steps in schedule.dispatches(start_step, config.num_train_steps,
                                               config.steps_per_dispatch):
      # The step is donated: `state` is rebound to the result, the old buffers are gone.
      with jax.profiler.StepTraceAnnotation("train", step_num=step):
        state, metrics = step_fn(state, next(batches), train_rng)
      interval.add(metrics, step - num_steps + 1, stacked=config.steps_per_dispatch > 1)
      report_progress(step)

      preempted = preemption.reached_any(step - num_steps + 1, step)
      is_last = step == config.num_train_steps or preempted
      log_due = schedule.due(step, config.log_every_steps, is_last)
      checkpoint_due = schedule.due(step, config.checkpoint_every_steps, is_last)
      if log_due or checkpoint_due:
        interval.check()  # Nothing is saved after a non-finite step (policy "stop").
      if log_due:
        writer.write_scalars(step, interval.pop_scalars())
      if schedule.due(step, config.sample_every_steps, is_last):
        with report_progress.timed("samples"):
          reporter.write_samples(state, step)
      if reporter.evaluator is not None and not preempted and schedule.due(
          step, config.eval_every_steps, is_last):
        with report_progress.timed("eval"):
          reporter.evaluate(state, step)
      if checkpoint_due:
        with report_progress.timed("checkpoint"):
          checkpointer.save(step, state, force=is_last)
      if preempted:
        logging.warning("Preempted: saved the checkpoint of step %d; run the same command to "
                        "resume.", step)
        break

  checkpointer.close()
  writer.flush()
  reporter.write_progress_gif()
  return state
