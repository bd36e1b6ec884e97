"""Many seeds in one run (`config.num_seeds = K`): K independent GANs trained side by side.

GANs trained with different seeds can end up very different (one collapses, one does not), so one
seed says little. With K > 1 the run trains K GANs in one jitted step over a leading seed axis of
the state, the batch and the RNG (`map_train_step`: vmapped on accelerators, unrolled on CPU),
inside the same data-parallel `shard_map` (the batch is split over the devices along its second
axis; the seed axis is not split).

Seed k of a run with `config.seed = s` *is* the run with `config.seed = s + k`: its initial
parameters, its training noise, its fixed sample latents and its data order (each seed has its
own data stream) are those of that separate run, so its parameters match that run's to float
tolerance (tests/test_seeds.py). Evaluation uses one evaluator for all seeds (the reference set
and evaluation latents of `config.seed`), so the spread of the metrics over seeds comes from
training alone.

"""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import is_int, require


def validate(config):
  require(is_int(config.num_seeds) and config.num_seeds > 0, "num_seeds", config.num_seeds,
          "it must be a positive integer (GANs trained side by side)")


def seeds_of(config):
  """The seeds of the K GANs: seed k is `config.seed + k` (k = 0 is the run's own seed)."""
  return [config.seed + k for k in range(config.num_seeds)]


def select(tree, index):
  """Seed `index`'s slice of a stacked state (or of any pytree with a leading seed axis)."""
  return jax.tree_util.tree_map(lambda x: x[index], tree)


def stack_batches(iterators):
  """Zips K batch iterators into one of batches with a leading seed axis [K, b, ...]."""
  for batches in zip(*iterators):
    yield jax.tree_util.tree_map(lambda *xs: np.stack(xs), *batches)


# How the K seeds' steps run in one jitted step (`map_train_step`).
METHODS = ("auto", "vmap", "unroll")


def map_train_step(step_fn, method="auto"):
  """`step_fn(state, batch, rng, **kwargs)` over a leading seed axis of all three.

  `method`: "vmap" (one batched step, `jax.vmap`), "unroll" (the K steps one after another in
  one program, each on its seed's slices) or "auto": unroll on CPU, where XLA ran a vmapped
  DCGAN step's batched convolutions 3.5x slower than K single steps (docs/performance.md,
  "Many seeds in one run"), vmap on GPUs and TPUs. The seeds' results are the same either way.
  Collectives over the device axis (`lax.pmean(grads, "batch")`, BatchNorm's `axis_name`) keep
  working: they average each seed's values over the devices, never across seeds. Metrics come
  back as scalars named "seed_<k>/<name>", so logging, TensorBoard and the non-finite checks see
  one series per seed.
  """
  if method not in METHODS:
    raise ValueError(f"Unknown method {method!r}; expected one of {METHODS}.")
  if method == "auto":
    method = "unroll" if jax.default_backend() == "cpu" else "vmap"

  def seeds_step(state, batch, rng, **kwargs):
    if method == "vmap":
      state, metrics = jax.vmap(lambda s, b, r: step_fn(s, b, r, **kwargs))(state, batch, rng)
    else:
      results = [step_fn(select(state, k), select(batch, k), rng[k], **kwargs)
                 for k in range(rng.shape[0])]
      state, metrics = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *results)
    return state, per_seed_scalars(metrics)

  return seeds_step


def per_seed_scalars(metrics):
  """{"d_loss": [K]} -> {"seed_0/d_loss": scalar, ..., "seed_<K-1>/d_loss": scalar}."""
  num = len(next(iter(metrics.values())))
  return {f"seed_{k}/{name}": value[k] for k in range(num) for name, value in metrics.items()}


def stacked_keys(seeds, num_splits=3):
  """For each of the run's `split(key(seed), num_splits)` keys, the K seeds' keys stacked [K].

  The loop splits `jax.random.key(config.seed)` into (init, train, sample) keys; this gives the
  same three for every seed, each stacked over the seeds.
  """
  keys = [jax.random.split(jax.random.key(seed), num_splits) for seed in seeds]
  return [jnp.stack([k[i] for k in keys]) for i in range(num_splits)]


def mean_and_std(scalars_per_seed):
  """{name: (mean, std)} over seeds of [{name: value}, ...]: the sample std (ddof=1) of the K
  values (0 for one seed); a NaN of one seed shows in both."""
  names = [name for name in scalars_per_seed[0]
           if all(name in scalars for scalars in scalars_per_seed)]
  ddof = 1 if len(scalars_per_seed) > 1 else 0
  return {name: (float(np.mean([s[name] for s in scalars_per_seed])),
                 float(np.std([s[name] for s in scalars_per_seed], ddof=ddof)))
          for name in names}
