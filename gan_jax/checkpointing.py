"""Orbax checkpoints of the train state: save every N steps, keep the newest K, resume the newest.

The input position needs no state of its own: batches are a function of (seed, step), so the
restored step is the iterator position (see `gan_jax.input_pipeline`).
"""

import logging

import jax
import orbax.checkpoint as ocp
from orbax.checkpoint.checkpoint_managers import preservation_policy, save_decision_policy

from gan_jax.errors import UserError


def _abstract(tree):
  """Shape/dtype/sharding skeleton of `tree`: Orbax restores into it and checks the shapes."""
  return jax.tree_util.tree_map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=getattr(x, "sharding", None)),
      tree)


class Checkpointer:
  """A thin wrapper over `ocp.CheckpointManager` for one `GANState`."""

  def __init__(self, directory, save_every_steps, keep):
    self.directory = directory
    self.manager = ocp.CheckpointManager(
        directory,
        options=ocp.CheckpointManagerOptions(
            save_decision_policy=save_decision_policy.FixedIntervalPolicy(save_every_steps),
            preservation_policy=preservation_policy.LatestN(keep),
            create=True,
        ),
    )

  def latest_step(self):
    return self.manager.latest_step()

  def restore_latest(self, state):
    """Returns the newest checkpoint restored into `state`'s structure, or `state` if none."""
    step = self.manager.latest_step()
    if step is None:
      return state
    try:
      restored = self.manager.restore(step, args=ocp.args.StandardRestore(_abstract(state)))
    except (ValueError, KeyError, TypeError) as e:
      raise UserError(
          f"The checkpoint at step {step} in {self.directory} does not match this config's model "
          f"({type(e).__name__}: {str(e).splitlines()[0][:300]}). Resume with the config the run "
          "was started with, or pass a new --workdir.") from e
    logging.info("Resumed from checkpoint at step %d in %s.", step, self.directory)
    return restored

  def save(self, step, state, force=False):
    """Saves if the interval policy says so (or `force`); returns whether it saved."""
    return self.manager.save(step, args=ocp.args.StandardSave(state), force=force)

  def close(self):
    self.manager.wait_until_finished()
    self.manager.close()
