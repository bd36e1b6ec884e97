"""The layers of gan_jax, checked by importing them in a fresh interpreter.

The step and everything it is built from import without TensorFlow, TFDS, clu or ml_collections
(what the GPU machine lacks; research scripts import them there), and the tools that read a run
(sampling, generate, evaluate, images) never import the training loop.
"""

import json

import pytest

STEP_MODULES = ("gan_jax.models.mlp", "gan_jax.models.dcgan", "gan_jax.models.registry",
                "gan_jax.losses", "gan_jax.objectives", "gan_jax.train_step",
                "gan_jax.train_state", "gan_jax.optimizers", "gan_jax.constraints",
                "gan_jax.data_parallel", "gan_jax.seeds", "gan_jax.nonfinite",
                "gan_jax.schedule", "gan_jax.evaluation.mixtures", "gan_jax.evaluation.frechet",
                "gan_jax.data.catalog", "gan_jax.data.synthetic",
                "gan_jax.evaluation.evaluator", "gan_jax.latent_space")
TOOLS = ("gan_jax.sampling", "gan_jax.generate", "gan_jax.evaluate", "gan_jax.images")


def _imported(python_without, modules, blocked=()):
  """Imports `modules` in a fresh interpreter with `blocked` made unimportable; sys.modules."""
  result = python_without(blocked, "import json\n"
                          f"for name in {tuple(modules)!r}:\n"
                          "  __import__(name)\n"
                          "print(json.dumps(sorted(sys.modules)))\n")
  assert result.returncode == 0, result.stderr[-3000:]
  return set(json.loads(result.stdout.splitlines()[-1]))


def test_the_step_and_its_pieces_import_without_training_only_packages(python_without):
  loaded = _imported(python_without, STEP_MODULES, blocked=("tensorflow", "tensorflow_datasets", "clu", "ml_collections"))
  assert set(STEP_MODULES) <= loaded
  assert "gan_jax.train" not in loaded and "gan_jax.input_pipeline" not in loaded


@pytest.mark.parametrize("tool", TOOLS)
def test_tools_do_not_import_the_training_loop(tool, python_without):
  loaded = _imported(python_without, [tool])
  assert tool in loaded
  assert not {"gan_jax.train", "clu", "clu.metric_writers"} & loaded, (
      f"{tool} pulls in the training loop or clu")


def test_a_blocked_training_package_is_what_the_check_would_catch(python_without):
  """The check can fail: the loop itself needs clu, so blocking it breaks `import gan_jax.train`."""
  with pytest.raises(AssertionError, match="clu"):
    _imported(python_without, ["gan_jax.train"], blocked=("clu",))
