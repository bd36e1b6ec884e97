"""Non-finite values: the exact first bad step is found on device; 'skip' leaves the state as it was."""

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from gan_jax import nonfinite


class _State(struct.PyTreeNode):
  step: jax.Array
  params: jax.Array


def _step(state, batch, rng):
  """A toy update whose result is NaN when the batch holds a NaN."""
  del rng
  params = state.params + batch.sum()
  return state.replace(step=state.step + 1, params=params), {"loss": params.sum()}


def test_all_finite_ignores_integer_leaves():
  assert bool(nonfinite.all_finite({"a": jnp.ones(3), "n": jnp.arange(3)}))
  assert not bool(nonfinite.all_finite({"a": jnp.array([1.0, jnp.inf]), "n": jnp.arange(3)}))
  assert not bool(nonfinite.all_finite([jnp.ones(2), jnp.array(jnp.nan)]))


def test_skip_keeps_the_state_but_advances_the_step():
  step = jax.jit(nonfinite.skip_nonfinite_updates(_step))
  state = _State(step=jnp.zeros((), jnp.int32), params=jnp.ones(2))
  state, metrics = step(state, jnp.ones(2), None)
  np.testing.assert_array_equal(state.params, [3.0, 3.0])
  assert float(metrics["skipped_update"]) == 0.0
  state, metrics = step(state, jnp.array([1.0, jnp.nan]), None)
  np.testing.assert_array_equal(state.params, [3.0, 3.0])
  assert int(state.step) == 2 and float(metrics["skipped_update"]) == 1.0


def test_interval_names_the_first_bad_step_and_averages_the_finite_ones():
  interval = nonfinite.init_interval()
  losses = [1.0, 3.0, float("nan"), 5.0, float("inf")]
  for step, loss in enumerate(losses, start=11):
    interval = nonfinite.accumulate(interval, {"loss": jnp.float32(loss),
                                               "skipped_update": jnp.float32(0)}, step)
  means, num_bad, first_bad, bad_metrics = nonfinite.summarize(interval)
  assert means == {"loss": 3.0}
  assert num_bad == 2 and first_bad == 13 and np.isnan(bad_metrics["loss"])


def test_clean_interval_has_no_bad_step():
  interval = nonfinite.init_interval()
  for step in range(3):
    interval = nonfinite.accumulate(interval, {"loss": jnp.float32(step)}, step)
  assert nonfinite.summarize(interval) == ({"loss": 1.0}, 0, None, None)
