"""Shared fixtures, all built on `configs/test.py`. Two CPU devices are simulated so the
data-parallel paths run for real."""

import os
import tempfile

# Must be set before JAX initialises its backend.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Many tests (and the runs they start in fresh processes) compile the same step: XLA's persistent
# cache, keyed by the program and the JAX version, compiles each once.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), "gan_jax_tests_xla_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")

import numpy as np  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top

from configs import test as test_config  # pylint: disable=g-import-not-at-top
from gan_jax.data import sources  # pylint: disable=g-import-not-at-top
from gan_jax.evaluation import inception  # pylint: disable=g-import-not-at-top


@pytest.fixture(scope="session")
def fashion_mnist():
  """Real Fashion-MNIST training images (Debian's dataset-fashion-mnist, installed by .ci/run)."""
  return sources.load_arrays("fashion_mnist", "train")


@pytest.fixture
def tiny_config():
  """configs/test.py: 6 steps of a small MLP GAN, side work every 2-3 steps."""
  return test_config.get_config()


def conditional_config():
  """The tiny config, class-conditional, with an EMA of G's weights (decay 0.5)."""
  config = test_config.get_config()
  config.log_every_steps = 3
  config.sample_every_steps = 6
  config.conditional = True
  config.ema_decay = 0.5
  return config


@pytest.fixture
def tiny_conditional_config():
  return conditional_config()


def _trained(tmp_path_factory, name, config):
  from gan_jax import train  # pylint: disable=g-import-not-at-top
  workdir = str(tmp_path_factory.mktemp(name))
  return workdir, train.train_and_evaluate(config, workdir)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
  """A real 6-step run of configs/test.py, checkpoints at steps 3 and 6: the workdir the
  sampling, generate, evaluate and example tests read. Returns (workdir, final state)."""
  config = test_config.get_config()
  config.log_every_steps = 3
  config.sample_every_steps = 6
  return _trained(tmp_path_factory, "tiny_run", config)


@pytest.fixture(scope="session")
def tiny_conditional_run(tmp_path_factory):
  """`tiny_run`, class-conditional with an EMA (`conditional_config`)."""
  return _trained(tmp_path_factory, "tiny_conditional_run", conditional_config())


def _random_inception_state_dict(shapes, seed=0):
  """Random weights of the given PyTorch state-dict shapes, scaled so activations stay O(1)."""
  rng = np.random.default_rng(seed)
  state_dict = {}
  for key, shape in shapes.items():
    if key.endswith("running_var"):
      state_dict[key] = rng.uniform(0.5, 1.5, size=shape).astype(np.float32)
    elif key.endswith("conv.weight"):
      fan_in = np.prod(shape[1:])
      state_dict[key] = (rng.normal(size=shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
    else:
      state_dict[key] = (0.1 * rng.normal(size=shape)).astype(np.float32)
  return state_dict


@pytest.fixture(scope="session")
def random_state_dict():
  return _random_inception_state_dict


@pytest.fixture(scope="session")
def small_inception_weights(tmp_path_factory):
  """A width/16 Inception-v3 on 75x75 inputs, random weights saved as the documented .npz, plus
  keys a real pytorch-fid state dict carries and the loader ignores: (path, module, state dict).
  `inception.inception_extractor(path, channel_divisor=16, input_size=75)` reads it."""
  module = inception.InceptionV3(channel_divisor=16, input_size=75)
  state_dict = _random_inception_state_dict(inception.state_dict_shapes(module))
  extras = {"fc.weight": np.zeros((1008, 128), np.float32), "fc.bias": np.zeros(1008, np.float32),
            "Mixed_5b.branch1x1.bn.num_batches_tracked": np.array(0)}
  path = tmp_path_factory.mktemp("inception") / "small_inception.npz"
  np.savez(path, **state_dict, **extras)
  return str(path), module, state_dict


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python_without(blocked, code, timeout=600):
  """Runs `code` in a fresh interpreter (cwd and PYTHONPATH the repository) in which the modules
  `blocked` cannot be imported, as in an environment that lacks them; the CompletedProcess."""
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
  return subprocess.run([sys.executable, "-c", prelude + code], cwd=REPO, capture_output=True,
                        text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": REPO})


@pytest.fixture(scope="session")
def python_without():
  """`python_without(blocked, code)`: `code` run where the modules `blocked` are missing."""
  return _python_without
