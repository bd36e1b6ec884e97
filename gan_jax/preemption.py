"""Preemption: SIGTERM (what cloud VMs send before they are taken away) becomes a flag the loop
checks every step, so it saves a checkpoint and exits cleanly.

With several processes, JAX's own preemption service (started by `jax.distributed`) agrees on
one step for all of them; a single process installs its own handler.
"""

import logging
import signal

import jax
from jax.experimental import multihost_utils


class PreemptionNotice:
  """`with PreemptionNotice() as preemption: ... preemption.reached(step)`."""

  def __init__(self):
    self._received = False
    self._previous = None

  def __enter__(self):
    if jax.process_count() == 1:
      try:
        self._previous = signal.signal(signal.SIGTERM, self._handle)
      except ValueError:  # Not the main thread: leave signals to the caller.
        self._previous = None
    return self

  def _handle(self, signum, frame):
    del signum, frame
    logging.warning("SIGTERM received: finishing this step, saving a checkpoint, exiting.")
    self._received = True

  def reached(self, step):
    if jax.process_count() > 1:
      return multihost_utils.reached_preemption_sync_point(step)
    return self._received

  def reached_any(self, first_step, last_step):
    """Whether preemption was noticed at any of steps first_step .. last_step (one dispatch's;
    each is offered to the multi-process sync point)."""
    return any([self.reached(s) for s in range(first_step, last_step + 1)])

  def __exit__(self, *exc_info):
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)
