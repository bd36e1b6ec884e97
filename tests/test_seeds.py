"""Many seeds in one run (`config.num_seeds`): seed k is the separate run with seed + k."""

import json
import os
import shutil

import jax
import numpy as np
import pytest
from PIL import Image

from configs import mlp_fashion_mnist
from gan_jax import config_validation, sampling, seeds, train, workdir
from gan_jax.errors import UserError

SEED = 3


def _small(config, num_seeds, seed=SEED):
  config.batch_size = 16
  config.log_every_steps = 2
  config.num_sample_images = 16
  config.model.generator_features = (16, 32)
  config.model.discriminator_features = (32, 16)
  config.num_train_steps = 4
  config.checkpoint_every_steps = 2
  config.sample_every_steps = 4
  config.num_seeds = num_seeds
  config.seed = seed
  return config


@pytest.fixture(scope="module")
def two_seeds_run(tmp_path_factory):
  """A 4-step run of 2 seeds with an evaluation at the end; returns (config, workdir, state)."""
  config = _small(mlp_fashion_mnist.get_config(), 2)
  config.eval_every_steps = 4
  config.evaluation.num_samples = 100
  config.evaluation.num_reference = 100
  workdir = str(tmp_path_factory.mktemp("seeds"))
  return config, workdir, train.train_and_evaluate(config, workdir)


def test_seed_k_equals_the_separate_run_with_seed_plus_k(two_seeds_run, tmp_path):
  config, workdir, state = two_seeds_run
  assert state.step.shape == (2,) and list(np.asarray(state.step)) == [4, 4]
  # Seed 1 (seed 0 takes the same path with k = 0): its own init, noise and data stream.
  separate = train.train_and_evaluate(_small(config.copy_and_resolve_references(), 1, SEED + 1),
                                      str(tmp_path / "separate"))
  mine = seeds.select(state, 1)
  paths = lambda tree: [p for p, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]
  assert paths(mine) == paths(separate)
  for a, b in zip(jax.tree_util.tree_leaves(mine), jax.tree_util.tree_leaves(separate)):
    # vmapped matmuls round differently from unbatched ones (here by ~1e-10): float tolerance.
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7)
  # The same fixed latents: seed 1's first grid is the separate run's (its last one may differ
  # in a pixel rounded the other way).
  with open(os.path.join(workdir, "samples", "seed_1", "step_000000.png"), "rb") as f:
    with open(str(tmp_path / "separate" / "samples" / "step_000000.png"), "rb") as g:
      assert f.read() == g.read()
  # The two seeds did train different GANs.
  kernel = lambda s: np.asarray(jax.tree_util.tree_leaves(s.generator.params)[0])
  assert not np.allclose(kernel(seeds.select(state, 0)), kernel(seeds.select(state, 1)))


def test_outputs_per_seed_and_mean_and_std_of_the_evaluation(two_seeds_run):
  _, workdir, _ = two_seeds_run
  assert sorted(os.listdir(os.path.join(workdir, "samples", "seed_1"))) == [
      "step_000000.png", "step_000004.png"]
  assert os.path.exists(os.path.join(workdir, "samples", "step_000004.png"))  # Side by side.
  evaluation = os.path.join(workdir, "evaluation")
  assert sorted(os.listdir(evaluation)) == ["seed_0", "seed_1", "step_000004.json"]
  with open(os.path.join(evaluation, "step_000004.json")) as f:
    summary = json.load(f)
  per_seed = []
  for k in range(2):
    with open(os.path.join(evaluation, f"seed_{k}", "step_000004.json")) as f:
      per_seed.append(json.load(f)["metrics"]["fd"]["value"])
  assert [s["fd"] for s in summary["per_seed"]] == per_seed
  assert summary["mean"]["fd"] == pytest.approx(np.mean(per_seed))
  assert summary["std"]["fd"] == pytest.approx(np.std(per_seed, ddof=1))
  assert summary["std"]["fd"] > 0


def test_resume_of_many_seeds_is_exact(two_seeds_run, tmp_path):
  """The run's checkpoint of step 2, resumed to step 4, gives the uninterrupted state bitwise."""
  config, workdir, uninterrupted = two_seeds_run
  resumed_dir = tmp_path / "resumed"
  shutil.copytree(os.path.join(workdir, "checkpoints", "2"), resumed_dir / "checkpoints" / "2")
  config = config.copy_and_resolve_references()
  config.eval_every_steps = 0  # May change on resume.
  resumed = train.train_and_evaluate(config, str(resumed_dir))
  for a, b in zip(jax.tree_util.tree_leaves(resumed), jax.tree_util.tree_leaves(uninterrupted)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_many_seeds_with_two_steps_per_dispatch(two_seeds_run, tmp_path):
  """steps_per_dispatch=2 scans over batches stacked [steps, seeds, batch, ...]: resumed from
  step 2 this way, the 2 seeds reach the uninterrupted state (float tolerance: the scanned
  body is fused differently)."""
  config, workdir, uninterrupted = two_seeds_run
  resumed_dir = tmp_path / "resumed"
  shutil.copytree(os.path.join(workdir, "checkpoints", "2"), resumed_dir / "checkpoints" / "2")
  config = config.copy_and_resolve_references()
  config.eval_every_steps = 0
  config.steps_per_dispatch = 2
  resumed = train.train_and_evaluate(config, str(resumed_dir))
  for a, b in zip(jax.tree_util.tree_leaves(resumed), jax.tree_util.tree_leaves(uninterrupted)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_load_generator_chooses_a_seed(two_seeds_run):
  _, workdir, state = two_seeds_run
  generator = sampling.load_generator(workdir, seed_index=1)
  for a, b in zip(jax.tree_util.tree_leaves(generator.variables["params"]),
                  jax.tree_util.tree_leaves(seeds.select(state, 1).generator.params)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  with pytest.raises(UserError, match=r"--seed_index=2: the run trained 2 seed\(s\)"):
    sampling.load_generator(workdir, seed_index=2)


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True])
def test_bad_num_seeds_is_one_line(tiny_config, tmp_path, value):
  with tiny_config.ignore_type():
    tiny_config.num_seeds = value
  with pytest.raises(UserError, match=r"^config\.num_seeds=.* is invalid: it must be a positive "):
    train.train_and_evaluate(tiny_config, str(tmp_path / "run"))


def test_mean_and_std():
  summary = seeds.mean_and_std([{"fd": 1.0, "kid": 0.5}, {"fd": 3.0}])
  assert summary == {"fd": (2.0, pytest.approx(np.sqrt(2.0)))}
  assert seeds.mean_and_std([{"fd": 1.0}]) == {"fd": (1.0, 0.0)}


def test_num_seeds_cannot_change_on_resume_and_old_runs_read_as_one_seed():
  config = mlp_fashion_mnist.get_config()
  saved = json.loads(config.to_json_best_effort())
  del saved["num_seeds"]  # A config.json written before the field existed.
  assert workdir.resume_differences(saved, config) == []
  config.num_seeds = 2
  assert workdir.resume_differences(saved, config) == [
      "  num_seeds: 1 in the saved run -> 2 now"]


def test_a_conditional_run_of_two_seeds_writes_class_grids_and_evaluations_per_seed(
    tiny_conditional_config, tmp_path):
  """num_seeds with a class-conditional generator (and its EMA): one class grid per seed, each
  seed evaluated on its own, seed 1 loadable by `seed_index`."""
  config = tiny_conditional_config
  config.num_seeds = 2
  config.eval_every_steps = 6
  config.evaluation.num_samples = 40
  config.evaluation.num_reference = 40
  workdir = str(tmp_path / "cond_seeds")
  train.train_and_evaluate(config, workdir)
  grids = [np.asarray(Image.open(os.path.join(workdir, "samples", f"seed_{k}", "step_000006.png")))
           for k in range(2)]
  assert grids[0].shape == grids[1].shape and not np.array_equal(grids[0], grids[1])
  for k in range(2):
    with open(os.path.join(workdir, "evaluation", f"seed_{k}", "step_000006.json")) as f:
      assert "class_coverage" in json.load(f)["metrics"]
  generator = sampling.load_generator(workdir, seed_index=1)
  assert generator.num_classes == 10 and generator.uses_ema


def test_vmapped_and_unrolled_seeds_compute_the_same_steps(tiny_config):
  """`map_train_step`'s two methods: the same K steps (to float rounding)."""
  import functools  # pylint: disable=g-import-not-at-top
  from gan_jax import train_state, train_step  # pylint: disable=g-import-not-at-top
  init, rng, _ = seeds.stacked_keys([0, 1])
  state = jax.vmap(functools.partial(train_state.state_from_config, tiny_config, (28, 28, 1)))(
      init)
  batch = {"image": jax.random.uniform(jax.random.key(3), (2, 16, 28, 28, 1))}
  step = functools.partial(train_step.train_step,
                           options=train_step.StepOptions.from_config(tiny_config))
  results = {m: jax.jit(seeds.map_train_step(step, m))(state, batch, rng)
             for m in ("vmap", "unroll")}
  (vmapped, vmapped_metrics), (unrolled, unrolled_metrics) = results["vmap"], results["unroll"]
  for a, b in zip(jax.tree_util.tree_leaves(vmapped), jax.tree_util.tree_leaves(unrolled)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
  assert set(vmapped_metrics) == set(unrolled_metrics) and "seed_1/d_loss" in vmapped_metrics
  with pytest.raises(ValueError, match="Unknown method 'pmap'"):
    seeds.map_train_step(step, "pmap")
