"""gan_jax.schedule: which steps each jitted call runs and when interval work is due."""

import numpy as np
import pytest

from configs import test as test_config
from gan_jax import config_validation, schedule
from gan_jax.errors import UserError


def test_calls_end_on_multiples_of_the_steps_per_dispatch_also_after_a_resume():
  assert list(schedule.dispatches(0, 10, 4)) == [(4, 4), (8, 4), (10, 2)]
  assert list(schedule.dispatches(6, 10, 4)) == [(8, 2), (10, 2)]  # resumed at step 6
  assert list(schedule.dispatches(0, 3, 1)) == [(1, 1), (2, 1), (3, 1)]
  assert list(schedule.dispatches(10, 10, 4)) == []


def test_batches_are_stacked_per_call():
  batches = iter({"image": np.full((2,), step)} for step in range(6, 10))
  stacked = [b["image"][:, 0].tolist() for b in schedule.stack_batches(batches, 6, 10, 4)]
  assert stacked == [[6, 7], [8, 9]]


def test_interval_work_is_due_on_multiples_and_at_the_end():
  assert schedule.due(10, 5, False) and not schedule.due(12, 5, False)
  assert schedule.due(12, 5, True) and not schedule.due(12, 0, True)


def test_an_interval_that_is_not_a_multiple_of_the_dispatch_is_one_error():
  config = test_config.get_config()
  config.steps_per_dispatch = 4
  with pytest.raises(UserError, match="multiple of config.steps_per_dispatch=4"):
    config_validation.validate_config(config, num_devices=1)
