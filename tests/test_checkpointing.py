"""Checkpoints: damaged ones are moved aside and the previous good one restored."""

import glob
import os

import flax
import jax
import numpy as np
import optax
import pytest

from gan_jax import checkpointing, train_state
from gan_jax.errors import UserError
from gan_jax.models import mlp


def _state(scale):
  tx = optax.adam(1e-3)
  state = train_state.create_train_state(
      jax.random.key(0), mlp.MLPGenerator(hidden_features=(8, 8, 8)),
      mlp.MLPDiscriminator(hidden_features=(8, 8)), tx, tx, latent_dim=4,
      image_shape=(28, 28, 1))
  return jax.tree_util.tree_map(lambda x: x * scale, state)


def _save_steps(directory, steps):
  checkpointer = checkpointing.Checkpointer(directory, 1, 10)
  for step in steps:
    checkpointer.save(step, _state(step))
  checkpointer.close()


def _truncate_arrays(step_dir):
  files = glob.glob(os.path.join(step_dir, "**", "d", "*"), recursive=True)
  assert files, "expected array data files in the checkpoint"
  for path in files:
    with open(path, "r+b") as f:
      f.truncate(8)


def _garble_metadata(step_dir):
  with open(os.path.join(step_dir, "default", "_METADATA"), "w") as f:
    f.write("{not json")


@pytest.mark.parametrize("damage", [_truncate_arrays, _garble_metadata])
def test_damaged_newest_checkpoint_falls_back_to_the_previous_one(tmp_path, damage):
  directory = str(tmp_path / "checkpoints")
  _save_steps(directory, [1, 2, 3])
  damage(os.path.join(directory, "3"))

  checkpointer = checkpointing.Checkpointer(directory, 1, 10)
  restored = checkpointer.restore_latest(_state(0))
  expected = _state(2)
  for a, b in zip(jax.tree_util.tree_leaves(restored), jax.tree_util.tree_leaves(expected)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  # Nothing is deleted: the damaged checkpoint is kept beside the checkpoints folder.
  assert os.path.isdir(tmp_path / "damaged_checkpoints" / "3")
  assert checkpointer.latest_step() == 2
  # Training on saves step 3 again, next to the good step 2.
  assert checkpointer.save(3, _state(3), force=True)
  checkpointer.close()
  assert sorted(os.listdir(directory)) == ["1", "2", "3"]


def test_all_checkpoints_damaged_is_one_clear_error_and_then_a_fresh_start(tmp_path):
  directory = str(tmp_path / "checkpoints")
  _save_steps(directory, [1])
  _truncate_arrays(os.path.join(directory, "1"))
  with pytest.raises(UserError, match="No checkpoint in .* could be read; the damaged ones were "
                     "moved to .*damaged_checkpoints/1. Run the same command again"):
    checkpointing.Checkpointer(directory, 1, 10).restore_latest(_state(0))
  # As the message says: the same command now starts from step 0.
  restored = checkpointing.Checkpointer(directory, 1, 10).restore_latest(_state(5))
  assert int(restored.step) == 0 and float(jax.tree_util.tree_leaves(restored)[1][0]) == float(
      jax.tree_util.tree_leaves(_state(5))[1][0])


def test_describe_mismatch_names_missing_extra_and_reshaped_arrays():
  saved = {"generator": {"params": {"a": np.zeros((2, 3)), "b": np.zeros(4)}}}
  target = {"generator": {"params": {"a": np.zeros((2, 5)), "c": np.zeros(1)}}}
  assert checkpointing.describe_mismatch(saved, target) == [
      "  generator/params/a: checkpoint (2, 3) vs this config (2, 5)",
      "  generator/params/b: in the checkpoint (4,), not in this config's model",
      "  generator/params/c: in this config's model (1,), not in the checkpoint",
  ]


@flax.struct.dataclass
class _StateBeforeAda:
  """`GANState` as gan_jax wrote it before the `ada` field (the grid runs of issue 16)."""
  step: jax.Array
  generator: train_state.NetworkState
  discriminator: train_state.NetworkState


def test_checkpoint_of_an_older_state_layout_resumes_by_array_name(tmp_path):
  directory = str(tmp_path / "checkpoints")
  saved = _state(3)
  old = _StateBeforeAda(saved.step, saved.generator, saved.discriminator)
  checkpointer = checkpointing.Checkpointer(directory, 1, 10)
  checkpointer.save(7, old)
  checkpointer.close()

  checkpointer = checkpointing.Checkpointer(directory, 1, 10)
  restored = checkpointer.restore_latest(_state(0))
  assert restored.ada is None
  for a, b in zip(jax.tree_util.tree_leaves(restored), jax.tree_util.tree_leaves(saved)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert not os.path.exists(tmp_path / "damaged_checkpoints")
  np.testing.assert_array_equal(
      np.asarray(checkpointer.restore(7, _state(0)).generator.params["Dense_0"]["kernel"]),
      np.asarray(saved.generator.params["Dense_0"]["kernel"]))
  checkpointer.close()
