"""Data parallelism over all devices: one jitted `shard_map` of the per-device train step.

The step is written per device with an axis name (`lax.pmean(grads, "batch")`), so the same
function runs under `jax.shard_map` (used here; the installed JAX implements `pmap` with
jit + shard_map) or under `jax.pmap(step, axis_name="batch")` for whoever prefers it.
"""

import functools

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXIS_NAME = "batch"


def create_mesh(devices=None):
  """A 1-D mesh over `devices` (default: all devices) with the axis "batch"."""
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), (AXIS_NAME,))


def replicated(mesh):
  return NamedSharding(mesh, P())


def batch_sharded(mesh, seed_axis=False):
  """Batches split over the devices along their first axis (the second with a seed axis)."""
  return NamedSharding(mesh, P(None, AXIS_NAME) if seed_axis else P(AXIS_NAME))


def parallelize_train_step(step_fn, mesh, donate_state=True, seed_axis=False):
  """jit(shard_map(step_fn)): state and rng replicated, batch split along its first axis.

  Args:
    step_fn: `(state, batch, rng, *, axis_name) -> (state, metrics)`, e.g. `train_step` with its
      static options bound by `functools.partial`.
    mesh: a mesh from `create_mesh`.
    donate_state: reuse the input state's buffers for the output (saves one copy of the state).
    seed_axis: the batch has a leading seed axis (`gan_jax.seeds`), so it is split along its
      second axis; state and rng carry the seed axis too, and stay replicated.

  Returns:
    A jitted function `(state, batch, rng) -> (state, metrics)` on global arrays.
  """
  per_device = functools.partial(step_fn, axis_name=AXIS_NAME)
  # check_vma=False keeps pmap's semantics: gradients of replicated parameters are per-device
  # and the step averages them itself with lax.pmean. (With varying-manual-axes checking on,
  # JAX would already psum them in the transpose, and the pmean would leave them N times too
  # large; the same step must also run unchanged under jax.pmap.)
  sharded = jax.shard_map(
      per_device, mesh=mesh, in_specs=(P(), batch_sharded(mesh, seed_axis).spec, P()),
      out_specs=(P(), P()),
      check_vma=False)
  return jax.jit(sharded, donate_argnums=(0,) if donate_state else ())


def prefetch_to_device(iterator, sharding, size=2):
  """Yields global batches placed with `sharding`, keeping `size` batches in flight.

  Each element of `iterator` holds this process's rows of the global batch (all of it with one
  process); `jax.make_array_from_process_local_data` assembles the global array across
  processes. The copy is asynchronous, so while the step runs on batch k, batches k+1 and k+2
  are being copied; the step does not wait for the host unless the pipeline itself is slower.
  """
  queue = []
  for batch in iterator:
    queue.append(jax.tree_util.tree_map(
        lambda x: jax.make_array_from_process_local_data(sharding, x), batch))
    if len(queue) > size:
      yield queue.pop(0)
  yield from queue

