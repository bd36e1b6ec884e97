"""When the loop runs what: the steps of each jitted call and the intervals of its side work.

With `config.steps_per_dispatch` = k, one jitted call runs up to k steps (`lax.scan`); the loop
sees the state only between calls, so every interval (log, samples, evaluation, checkpoint) is
a multiple of k.
"""

import jax
import numpy as np

from gan_jax.errors import is_int, positive_int, require

INTERVALS = ("log_every_steps", "sample_every_steps", "checkpoint_every_steps",
             "eval_every_steps")


def validate(config):
  """The loop's counts and intervals, and the seed."""
  for field in ("num_train_steps", "log_every_steps", "sample_every_steps",
                "checkpoint_every_steps", "keep_checkpoints", "num_sample_images"):
    positive_int(config, field)
  require(is_int(config.seed), "seed", config.seed, "it must be an integer")
  steps = config.steps_per_dispatch
  require(is_int(steps) and steps > 0, "steps_per_dispatch", steps,
          "it must be a positive integer")
  for field in INTERVALS:
    every = config[field]
    require(not is_int(every) or every % steps == 0, field, every,
            f"it must be a multiple of config.steps_per_dispatch={steps} (the loop sees the "
            "state only between dispatches); change one of the two")


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


def due(step, every, is_last):
  """Whether interval work of period `every` (0: never) is due after `step`."""
  return bool(every) and (step % every == 0 or is_last)
