"""Data parallelism over all devices: one jitted `shard_map` of the per-device train step.

The step is written per device with an axis name (`lax.pmean(grads, "batch")`), so the same
function runs under `jax.shard_map` (used here; the installed JAX implements `pmap` with
jit + shard_map) or under `jax.pmap(step, axis_name="batch")` for whoever prefers it.
"""

import functools

import jax
import numpy as np
from jax import lax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXIS_NAME = "batch"


def create_mesh(devices=None):
  """A 1-D mesh over `devices` (default: all devices) with the axis "batch"."""
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), (AXIS_NAME,))


def replicated(mesh):
  return NamedSharding(mesh, P())


def batch_sharded(mesh, seed_axis=False, multi_step=False):
  """Batches split over the devices along their batch axis.

  That is the first axis, after a leading steps axis ([steps, ...], `multi_step`) and a seed
  axis ([K, ...], `seed_axis`) when they are present, in that order: [steps, K, batch, ...].
  """
  return NamedSharding(mesh, P(*[None] * (int(multi_step) + int(seed_axis)), AXIS_NAME))


def scan_steps(step_fn):
  """`step_fn` applied once per entry of the batches' leading axis, in one `lax.scan`.

  The state after k entries is that of k calls of `step_fn` (the step folds `state.step` into
  the rng); the metrics come back stacked, one row per step, so every step's are kept.
  For accelerators, where a call's launch and host round trip cost as much as a small step; on
  XLA:CPU it helps small MLP steps a little and slows convolutional ones down several times
  (docs/performance.md).
  """

  def multi_step(state, batches, rng, **kwargs):
    return lax.scan(lambda s, batch: step_fn(s, batch, rng, **kwargs), state, batches)

  return multi_step


def parallelize_train_step(step_fn, mesh, donate_state=True, seed_axis=False, multi_step=False):
  """jit(shard_map(step_fn)): state and rng replicated, batch split along its first axis.

  Args:
    step_fn: `(state, batch, rng, *, axis_name) -> (state, metrics)`, e.g. `train_step` with its
      static options bound by `functools.partial`.
    mesh: a mesh from `create_mesh`.
    donate_state: reuse the input state's buffers for the output (saves one copy of the state):
      the state passed in is deleted, so always continue from the returned one.
    seed_axis: the batch has a leading seed axis (`gan_jax.seeds`), so it is split along its
      second axis; state and rng carry the seed axis too, and stay replicated.
    multi_step: the batch holds a leading axis of steps ([steps, ...] before any seed axis,
      placed with `batch_sharded(mesh, seed_axis, multi_step=True)`); one call runs that many
      steps (`scan_steps`, `config.steps_per_dispatch`) and returns metrics stacked along it.
      Each length compiles once.

  Returns:
    A jitted function `(state, batch, rng) -> (state, metrics)` on global arrays.
  """
  per_device = functools.partial(scan_steps(step_fn) if multi_step else step_fn,
                                 axis_name=AXIS_NAME)
  batch_spec = batch_sharded(mesh, seed_axis, multi_step).spec
  # check_vma=False keeps pmap's semantics: gradients of replicated parameters are per-device
  # and the step averages them itself with lax.pmean. (With varying-manual-axes checking on,
  # JAX would already psum them in the transpose, and the pmean would leave them N times too
  # large; the same step must also run unchanged under jax.pmap.)
  sharded = jax.shard_map(
      per_device, mesh=mesh, in_specs=(P(), batch_spec, P()), out_specs=(P(), P()),
      check_vma=False)
  return jax.jit(sharded, donate_argnums=(0,) if donate_state else ())


def compiled_flops(compiled):
  """FLOPs of one call of a compiled function (XLA's `cost_analysis`; a `lax.scan` body counts
  once), or None where the backend does not report them."""
  analysis = compiled.cost_analysis()
  if isinstance(analysis, (list, tuple)):  # Older JAX: one dict per device program.
    analysis = analysis[0] if analysis else None
  flops = (analysis or {}).get("flops")
  return float(flops) if flops and flops > 0 else None


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

