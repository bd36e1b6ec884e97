"""Several processes (hosts) in one run: `jax.distributed.initialize` from the config or environment.

One process per host (a TPU VM of a pod, a GPU node, or, for tests, a CPU process with CPU
collectives over gloo). After initialisation `jax.devices()` lists every process's devices, the
mesh spans them all, each process feeds its own rows of the global batch, and Orbax writes each
checkpoint once.

Where the settings come from, first found wins:
  * `config.distributed.coordinator_address` / `num_processes` / `process_id`;
  * the environment: `JAX_COORDINATOR_ADDRESS`, `JAX_NUM_PROCESSES`, `JAX_PROCESS_ID`;
  * `config.distributed.auto_detect=True`: JAX's cluster detection (Cloud TPU pods, SLURM,
    Open MPI, Kubernetes) fills in whatever is unset.
With none of these the run is a single process and nothing is initialised.
"""

import logging
import os

import jax

from gan_jax.errors import UserError, is_int, require


def validate(config):
  timeout = config.distributed.initialization_timeout_s
  require(is_int(timeout) and timeout > 0, "distributed.initialization_timeout_s", timeout,
          "it must be a positive integer")


def _setting(distributed_config, field, env_name):
  value = distributed_config.get(field) if distributed_config is not None else None
  if value is None and os.environ.get(env_name):
    value = os.environ[env_name]
    if field != "coordinator_address":
      try:
        value = int(value)
      except ValueError:
        raise UserError(f"{env_name}={value!r} is invalid: it must be an integer.") from None
  return value


def initialize(config):
  """Joins the multi-process run `config` (or the environment) describes; returns whether it did.

  Must run before anything touches a JAX device, i.e. first thing in `main.py`.
  """
  distributed_config = config.get("distributed")
  address = _setting(distributed_config, "coordinator_address", "JAX_COORDINATOR_ADDRESS")
  num_processes = _setting(distributed_config, "num_processes", "JAX_NUM_PROCESSES")
  process_id = _setting(distributed_config, "process_id", "JAX_PROCESS_ID")
  auto_detect = bool(distributed_config and distributed_config.get("auto_detect"))
  if address is None and not auto_detect:
    return False
  if num_processes is not None and (not isinstance(num_processes, int) or num_processes < 1):
    raise UserError(f"config.distributed.num_processes={num_processes!r} is invalid: it must be "
                    "a positive integer.")
  if process_id is not None and num_processes is not None and not (
      isinstance(process_id, int) and 0 <= process_id < num_processes):
    raise UserError(f"config.distributed.process_id={process_id!r} is invalid: it must be in "
                    f"[0, {num_processes}).")
  timeout = 300
  if distributed_config is not None and distributed_config.get("initialization_timeout_s"):
    timeout = int(distributed_config.initialization_timeout_s)
  try:
    jax.distributed.initialize(address, num_processes, process_id,
                               initialization_timeout=timeout)
  except (RuntimeError, ValueError) as e:
    raise UserError(
        f"Could not join the multi-process run (coordinator {address!r}, {num_processes} "
        f"processes, this one {process_id}): {str(e).splitlines()[0][:300]}. Check that every "
        "process got the same coordinator address and process count and that the coordinator "
        "(process 0) is reachable.") from e
  logging.info("Joined a run of %d processes as process %d (%d devices in all).",
               jax.process_count(), jax.process_index(), jax.device_count())
  return True
