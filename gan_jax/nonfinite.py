"""Non-finite losses and parameters: find the exact step cheaply, or skip such updates.

A GAN that diverges usually does so in one step (a discriminator logit overflows, a learning rate
too high), and everything after it is NaN. Two policies (`config.nonfinite_policy`):
  * "stop": the loop stops at its next logging or checkpoint step, naming the first step whose
    metrics were not finite, and saves nothing from that point on, so the newest checkpoint is
    the last good state;
  * "skip": a step whose metrics or new parameters are not finite leaves the state unchanged
    (only the step counter advances, so the next step sees new data and noise) and is counted.

Both work on device: no host synchronisation per step.
"""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import UserError, require

POLICIES = ("stop", "skip")
NO_BAD_STEP = int(np.iinfo(np.int32).max)


def validate(config):
  require(config.nonfinite_policy in POLICIES, "nonfinite_policy", config.nonfinite_policy,
          f"choose one of {POLICIES}")


def nonfinite_error(step, metrics):
  """The `UserError` that stops a run at its first non-finite step (policy "stop")."""
  bad = ", ".join(f"{k}={v}" for k, v in metrics.items() if not np.isfinite(v))
  return UserError(
      f"Non-finite training metrics at step {step}: {bad}. The run stopped without saving this "
      "state; the newest checkpoint in the workdir is the last good one. Lower the learning "
      "rates or change the seed, then resume (or set --config.nonfinite_policy=skip to skip "
      "such updates and count them).")


def all_finite(tree):
  """True (a scalar bool array) when every floating-point leaf of `tree` is finite."""
  checks = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)
            if jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact)]
  return jnp.all(jnp.stack(checks)) if checks else jnp.asarray(True)


def skip_nonfinite_updates(step_fn):
  """Wraps `step_fn(state, batch, rng, **kwargs)` so non-finite updates are not applied.

  The returned state is the input state with only `step` advanced whenever the new metrics or
  the new state hold a NaN or Inf; `metrics["skipped_update"]` is 1.0 for such a step, else 0.0.
  Under a device axis the decision is the same on every device (metrics are averaged over the
  axis and the parameters are replicated).
  """

  def guarded_step(state, batch, rng, **kwargs):
    new_state, metrics = step_fn(state, batch, rng, **kwargs)
    ok = all_finite((metrics, new_state))
    unchanged = state.replace(step=new_state.step)
    state = jax.tree_util.tree_map(lambda new, old: jnp.where(ok, new, old), new_state, unchanged)
    return state, {**metrics, "skipped_update": 1.0 - ok.astype(jnp.float32)}

  return guarded_step


def init_interval():
  """Accumulator of one logging interval: metric sums over finite steps, counts, first bad step."""
  # numpy, not jnp: host values are replicated inputs to the jitted `accumulate` also when the
  # metrics are global arrays of a multi-process run.
  return {"sums": None, "num_finite": np.zeros((), np.int32),
          "num_steps": np.zeros((), np.int32),
          "first_bad_step": np.asarray(NO_BAD_STEP, np.int32),
          "first_bad_metrics": None}


@jax.jit
def accumulate(interval, metrics, step):
  """Adds one step's metrics (one dispatch, no host sync); non-finite steps are kept apart."""
  metrics = {k: v for k, v in metrics.items() if k != "skipped_update"}
  finite = all_finite(metrics)
  zeros = jax.tree_util.tree_map(jnp.zeros_like, metrics)
  sums = zeros if interval["sums"] is None else interval["sums"]
  bad_metrics = zeros if interval["first_bad_metrics"] is None else interval["first_bad_metrics"]
  is_first_bad = jnp.logical_and(~finite, interval["first_bad_step"] == NO_BAD_STEP)
  return {
      "sums": jax.tree_util.tree_map(lambda s, m: s + jnp.where(finite, m, 0.0), sums, metrics),
      "num_finite": interval["num_finite"] + finite.astype(jnp.int32),
      "num_steps": interval["num_steps"] + 1,
      "first_bad_step": jnp.where(is_first_bad, jnp.asarray(step, jnp.int32),
                                  interval["first_bad_step"]),
      "first_bad_metrics": jax.tree_util.tree_map(
          lambda b, m: jnp.where(is_first_bad, m, b), bad_metrics, metrics),
  }


@jax.jit
def accumulate_steps(interval, metrics, first_step):
  """`accumulate` for metrics stacked over consecutive steps (`config.steps_per_dispatch`)."""
  num_steps = jax.tree_util.tree_leaves(metrics)[0].shape[0]
  for i in range(num_steps):
    interval = accumulate(interval, {k: v[i] for k, v in metrics.items()}, first_step + i)
  return interval


def summarize(interval):
  """(means over the finite steps, number of non-finite steps, first bad step or None, its metrics)."""
  interval = jax.device_get(interval)
  num_finite = int(interval["num_finite"])
  means = {k: float(v) / max(num_finite, 1) for k, v in interval["sums"].items()}
  num_bad = int(interval["num_steps"]) - num_finite
  first_bad = int(interval["first_bad_step"])
  if first_bad == int(NO_BAD_STEP):
    return means, num_bad, None, None
  return means, num_bad, first_bad, {k: float(v) for k, v in interval["first_bad_metrics"].items()}


class IntervalMetrics:
  """The loop's metrics between two log steps: accumulated on device, checked and averaged on
  the host only when the loop logs or checkpoints."""

  def __init__(self, policy):
    self.policy = policy
    self.num_skipped = 0
    self._interval = init_interval()
    self._summary = None

  def add(self, metrics, first_step, stacked=False):
    """One dispatch's metrics (stacked over its steps when it ran several)."""
    self._interval = (accumulate_steps(self._interval, metrics, first_step) if stacked else
                      accumulate(self._interval, metrics, first_step))
    self._summary = None

  def check(self):
    """Raises `nonfinite_error` at the interval's first non-finite step under policy "stop"."""
    self._summary = summarize(self._interval)
    _, _, first_bad, bad_metrics = self._summary
    if first_bad is not None and self.policy == "stop":
      raise nonfinite_error(first_bad, bad_metrics)

  def pop_scalars(self):
    """"train/<metric>" means over the interval's finite steps (and "train/skipped_updates",
    the run's count, under policy "skip"); starts the next interval."""
    if self._summary is None:
      self.check()
    means, num_bad, _, _ = self._summary
    self.num_skipped += num_bad
    scalars = {f"train/{k}": v for k, v in means.items()}
    if self.policy == "skip":
      scalars["train/skipped_updates"] = self.num_skipped
    self._interval, self._summary = init_interval(), None
    return scalars
