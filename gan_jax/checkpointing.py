"""Orbax checkpoints of the train state: save every N steps, keep the newest K, resume the newest.

The input position needs no state of its own: batches are a function of (seed, step), so the
restored step is the iterator position (see `gan_jax.input_pipeline`).

Resuming is defensive, because a preempted VM can leave a checkpoint half written on a disk that
lied about its flush: a checkpoint that cannot be read is moved aside (never deleted) to
`<workdir>/damaged_checkpoints/` and the next older one is tried. A checkpoint that reads fine but
holds another architecture is refused with the list of mismatched shapes. A checkpoint written
by an older gan_jax, whose state had the same arrays under the same names but fewer empty fields
(e.g. before `GANState.ada`), is restored by name.
"""

import logging
import os
import shutil

import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils
from orbax.checkpoint.checkpoint_managers import preservation_policy, save_decision_policy

from gan_jax.errors import UserError

DAMAGED_DIRNAME = "damaged_checkpoints"
_MAX_LISTED_MISMATCHES = 8


def _abstract(tree):
  """Shape/dtype/sharding skeleton of `tree`: Orbax restores into it and checks the shapes."""
  return jax.tree_util.tree_map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=getattr(x, "sharding", None)),
      tree)


def _key_name(entry):
  for attribute in ("key", "name", "idx"):
    if hasattr(entry, attribute):
      return str(getattr(entry, attribute))
  return str(entry)


def _path_names(tree):
  """{"generator/params/Dense_0/kernel": leaf} for every leaf of `tree`."""
  leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
  return {"/".join(_key_name(e) for e in path): leaf for path, leaf in leaves}


def _shapes_by_path(tree):
  """{"generator/params/Dense_0/kernel": shape} for every array leaf of a state or metadata tree."""
  return {name: tuple(getattr(leaf, "shape", ())) for name, leaf in _path_names(tree).items()}


def describe_mismatch(saved_tree, target_tree):
  """Lines naming what differs between a checkpoint's arrays and the state a config builds."""
  saved, target = _shapes_by_path(saved_tree), _shapes_by_path(target_tree)
  lines = []
  # Parameters first: optimizer moments mirror them and would only repeat the same news.
  order = lambda path: ("/params/" not in path, "/opt_state/" in path, path)
  for path in sorted(saved.keys() | target.keys(), key=order):
    if path not in target:
      lines.append(f"  {path}: in the checkpoint {saved[path]}, not in this config's model")
    elif path not in saved:
      lines.append(f"  {path}: in this config's model {target[path]}, not in the checkpoint")
    elif saved[path] != target[path]:
      lines.append(f"  {path}: checkpoint {saved[path]} vs this config {target[path]}")
  if len(lines) > _MAX_LISTED_MISMATCHES:
    lines = lines[:_MAX_LISTED_MISMATCHES] + [
        f"  ... and {len(lines) - _MAX_LISTED_MISMATCHES} more"]
  return lines


class Checkpointer:
  """A thin wrapper over `ocp.CheckpointManager` for one `GANState`."""

  def __init__(self, directory, save_every_steps, keep):
    self.directory = directory
    self.damaged_directory = os.path.join(os.path.dirname(directory), DAMAGED_DIRNAME)
    self.manager = ocp.CheckpointManager(
        directory,
        item_handlers=ocp.StandardCheckpointHandler(),
        options=ocp.CheckpointManagerOptions(
            save_decision_policy=save_decision_policy.FixedIntervalPolicy(save_every_steps),
            preservation_policy=preservation_policy.LatestN(keep),
            create=True,
        ),
    )

  def latest_step(self):
    return self.manager.latest_step()

  def _check_compatible(self, step, state):
    """Raises a `UserError` listing shape differences if `step` holds another architecture."""
    try:
      metadata = self.manager.item_metadata(step)
    except Exception:  # pylint: disable=broad-except
      return  # Unreadable metadata: a damaged checkpoint, handled by the restore below.
    saved_tree = getattr(metadata, "tree", metadata)
    if saved_tree is None:
      return
    mismatch = describe_mismatch(saved_tree, state)
    if mismatch:
      raise UserError(
          f"The checkpoint at step {step} in {self.directory} does not match this config's "
          "model:\n" + "\n".join(mismatch) + "\nResume with the config the run was started with, "
          "or pass a new --workdir.")

  def _saved_tree(self, step):
    metadata = self.manager.item_metadata(step)
    return getattr(metadata, "tree", metadata)

  def _restore_by_name(self, step, state):
    """Restores `step` into `state` leaf by leaf name, when only the trees' structure differs.

    Orbax refuses a target whose structure differs from the saved one even if every array is
    there under the same name: the case of a checkpoint from an older gan_jax whose state lacked
    an empty field. Raises whatever Orbax raises if the arrays themselves cannot be read.
    """
    saved_tree = self._saved_tree(step)
    targets = _path_names(_abstract(state))
    saved_names = _path_names(saved_tree)
    if set(saved_names) != set(targets):
      raise ValueError(f"the checkpoint's arrays are {sorted(set(saved_names) ^ set(targets))} "
                       "apart from this state's")
    names = iter(saved_names)
    saved_target = jax.tree_util.tree_map(lambda _: targets[next(names)], saved_tree)
    restored = _path_names(
        self.manager.restore(step, args=ocp.args.StandardRestore(saved_target)))
    names = iter(targets)
    return jax.tree_util.tree_map(lambda _: restored[next(names)], state)

  def _restore(self, step, state):
    try:
      return self.manager.restore(step, args=ocp.args.StandardRestore(_abstract(state)))
    except Exception as first:  # pylint: disable=broad-except
      try:
        restored = self._restore_by_name(step, state)
      except Exception:  # pylint: disable=broad-except
        raise first from None
      logging.info("Checkpoint at step %d has an older state layout; restored by array name.",
                   step)
      return restored

  def _move_aside(self, step):
    os.makedirs(self.damaged_directory, exist_ok=True)
    destination = os.path.join(self.damaged_directory, str(step))
    suffix = 1
    while os.path.exists(destination):
      destination = os.path.join(self.damaged_directory, f"{step}.{suffix}")
      suffix += 1
    if jax.process_index() == 0:
      shutil.move(os.path.join(self.directory, str(step)), destination)
    if jax.process_count() > 1:
      multihost_utils.sync_global_devices(f"gan_jax_moved_checkpoint_{step}")
    self.manager.reload()
    return destination

  def restore_latest(self, state):
    """Returns the newest readable checkpoint restored into `state`'s structure, or `state`.

    Unreadable checkpoints are moved to `damaged_checkpoints/` with a warning and the next older
    one is tried; a checkpoint of another architecture raises a `UserError`.
    """
    moved = []
    for step in sorted(self.manager.all_steps(), reverse=True):
      self._check_compatible(step, state)
      try:
        restored = self._restore(step, state)
      except Exception as e:  # pylint: disable=broad-except
        # Orbax and TensorStore raise plain Exception, ValueError or JSONDecodeError for
        # truncated or corrupted files; the shapes were checked above, so this is damage.
        destination = self._move_aside(step)
        moved.append(destination)
        logging.warning(
            "Checkpoint at step %d is damaged and was moved to %s (%s: %s); trying the previous "
            "one.", step, destination, type(e).__name__, str(e).splitlines()[0][:200])
        continue
      logging.info("Resumed from checkpoint at step %d in %s.", step, self.directory)
      return restored
    if moved:
      raise UserError(
          f"No checkpoint in {self.directory} could be read; the damaged ones were moved to "
          f"{', '.join(moved)}. Run the same command again to start from step 0 in this "
          "workdir, or pass a new --workdir.")
    return state

  def restore(self, step, state):
    """Checkpoint `step` restored into `state`'s structure, for tools that only read a run.

    Unlike `restore_latest`, nothing is moved: an unreadable checkpoint is an error naming the
    other steps (a run still training may be writing into the same folder).
    """
    self._check_compatible(step, state)
    try:
      return self._restore(step, state)
    except Exception as e:  # pylint: disable=broad-except
      others = [s for s in self.manager.all_steps() if s != step]
      raise UserError(
          f"The checkpoint at step {step} in {self.directory} cannot be read ({type(e).__name__}: "
          f"{str(e).splitlines()[0][:200]}); choose another step"
          + (f" ({', '.join(map(str, sorted(others)))})." if others else ".")) from e

  def save(self, step, state, force=False):
    """Saves if the interval policy says so (or `force`); returns whether it saved."""
    return self.manager.save(step, args=ocp.args.StandardSave(state), force=force)

  def close(self):
    self.manager.wait_until_finished()
    self.manager.close()


def restore_leaves(path):
  """The arrays of one saved state (`<checkpoints>/<step>/default`) as numpy, in pytree-leaf order,
  whatever device topology wrote it: for comparing runs made on different process/device counts."""
  checkpointer = ocp.StandardCheckpointer()
  metadata = checkpointer.metadata(os.path.abspath(path))
  item = getattr(metadata, "item_metadata", metadata)
  tree = getattr(item, "tree", item)
  device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  target = jax.tree_util.tree_map(
      lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device), tree)
  return [np.asarray(x) for x in
          jax.tree_util.tree_leaves(checkpointer.restore(os.path.abspath(path), target))]
