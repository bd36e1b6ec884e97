"""Checks a config before any data loads or anything compiles: one message per bad field.

Each owner checks its own fields (the data sources the data, the model registry the networks,
the losses, augmentation, optimizers, step, state, seeds, schedule and reporting theirs); this
module only calls them in order, on the config upgraded to today's fields
(`gan_jax.workdir.upgrade`).
"""

from gan_jax import augment, distributed, losses, nonfinite, optimizers, reporting, schedule
from gan_jax import seeds, train_state, train_step
from gan_jax.data import sources
from gan_jax.models import registry


def validate_config(config, num_devices):
  """Raises `UserError` naming the first invalid field of `config`.

  Args:
    config: the run's ConfigDict (with every field of today's configs).
    num_devices: devices the global batch is split over.
  """
  sources.validate(config.data)
  points = sources.points(config.data)
  registry.validate(config, points)
  schedule.validate(config)
  losses.validate(config)
  augment.validate(config, points)
  optimizers.validate(config)
  train_step.validate(config, num_devices,
                      fixed_points=points and bool(config.data.toy2d.num_examples))
  seeds.validate(config)
  train_state.validate(config)
  reporting.validate(config)
  distributed.validate(config)
  nonfinite.validate(config)
