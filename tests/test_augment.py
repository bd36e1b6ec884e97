"""Augmentation (gan_jax/augment.py): each transformation against its definition on a fixed batch,
gradients, draws, ADA's controller, and the augmented step on 1 and 2 devices."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs import dcgan_fashion_mnist, toy2d_ring8
from gan_jax import augment, config_validation, data_parallel, train_state, train_step
from gan_jax.errors import UserError
from gan_jax.models import registry
from gan_jax.train_step import StepOptions

ADA = augment.AugmentOptions(method="ada", operations=augment.ADA_OPERATIONS)


def _ada(*operations, value_range=(-1.0, 1.0)):
  return augment.AugmentOptions(method="ada", operations=operations, value_range=value_range)


def _always(params):
  """ADA parameters with every transformation's coin at 0 (< any p > 0): all applied."""
  num = len(next(iter(params.values())))
  return {**{f"{name}_apply": jnp.zeros(num) for name in params}, **params}


# ---------------------------------------------------------------------------------------------
# DiffAugment (DiffAugment_pytorch.py of mit-han-lab/data-efficient-gans).


def test_diffaugment_color_is_brightness_then_saturation_then_contrast():
  # One 1x2 image with 2 channels: pixels (0.2, -0.4) and (0.6, 0.0).
  x = jnp.asarray([[[[0.2, -0.4], [0.6, 0.0]]]])
  params = {"color_brightness": jnp.asarray([0.75]),   # + 0.25
            "color_saturation": jnp.asarray([0.25]),   # channel deviations x 0.5
            "color_contrast": jnp.asarray([1.0])}      # deviations from the image mean x 1.5
  # Brightness: (0.45, -0.15), (0.85, 0.25). Saturation around the pixel means 0.15 and 0.55:
  # (0.3, 0.0), (0.7, 0.4). Contrast around the image mean 0.35: (0.275, -0.175), (0.875, 0.425).
  expected = [[[[0.275, -0.175], [0.875, 0.425]]]]
  np.testing.assert_allclose(augment.diffaugment_color(x, params), expected, atol=1e-6)
  options = augment.AugmentOptions(method="diffaugment", operations=("color",))
  np.testing.assert_allclose(augment.apply(x, params, options), expected, atol=1e-6)


def test_diffaugment_translation_shifts_with_zero_fill():
  x = jnp.arange(1.0, 17.0).reshape(1, 4, 4, 1)
  out = augment.diffaugment_translation(x, {"translation": jnp.asarray([[1, -1]])})
  # out[i, j] = x[i + 1, j - 1]: the last row and the first column come from outside: 0.
  expected = [[0, 5, 6, 7], [0, 9, 10, 11], [0, 13, 14, 15], [0, 0, 0, 0]]
  np.testing.assert_array_equal(out[0, ..., 0], expected)


def test_diffaugment_cutout_zeroes_a_half_side_square_clipped_to_the_image():
  x = jnp.ones((2, 4, 4, 1))
  # 2x2 squares starting at centre - 1: at (0, 3) rows -1..0 x columns 2..3 (clipped to row 0);
  # at (2, 2) rows 1..2 x columns 1..2.
  out = augment.diffaugment_cutout(x, {"cutout": jnp.asarray([[0, 3], [2, 2]])})
  np.testing.assert_array_equal(out[0, ..., 0], [[1, 1, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1],
                                                 [1, 1, 1, 1]])
  np.testing.assert_array_equal(out[1, ..., 0], [[1, 1, 1, 1], [1, 0, 0, 1], [1, 0, 0, 1],
                                                 [1, 1, 1, 1]])


def test_diffaugment_draws_cover_exactly_the_papers_ranges():
  options = augment.AugmentOptions(method="diffaugment",
                                   operations=("color", "translation", "cutout"))
  params = augment.draw(jax.random.key(0), 4000, (16, 16, 1), options)
  for name in ("color_brightness", "color_saturation", "color_contrast"):
    assert 0.0 <= float(params[name].min()) and float(params[name].max()) < 1.0
  # Shifts -2..2 (16 // 8) on each axis; cutout centres 0..16 (16 + 1 - (8 % 2)).
  assert set(np.unique(params["translation"])) == set(range(-2, 3))
  assert set(np.unique(params["cutout"])) == set(range(0, 17))


# ---------------------------------------------------------------------------------------------
# ADA (training/augment.py of NVlabs/stylegan2-ada-pytorch).


def test_ada_blit_transformations_equal_their_definitions():
  x = jnp.arange(1.0, 10.0).reshape(1, 3, 3, 1) / 10  # rows (.1 .2 .3), (.4 .5 .6), (.7 .8 .9)
  flip = augment.apply(x, _always({"xflip": jnp.asarray([1])}), _ada("xflip"), p=0.5)
  np.testing.assert_allclose(flip[0, ..., 0], [[.3, .2, .1], [.6, .5, .4], [.9, .8, .7]])
  rotate = augment.apply(x, _always({"rotate90": jnp.asarray([1])}), _ada("rotate90"), p=0.5)
  np.testing.assert_allclose(rotate[0, ..., 0], [[.3, .6, .9], [.2, .5, .8], [.1, .4, .7]])
  # Translation by one row down: out[i] = x[i - 1], row -1 reflected to row 1 (no border repeat).
  shift = augment.apply(x, _always({"xint": jnp.asarray([[1, 0]])}), _ada("xint"), p=0.5)
  np.testing.assert_allclose(shift[0, ..., 0], [[.4, .5, .6], [.1, .2, .3], [.4, .5, .6]])
  # xflip's coin says "no flip" (0): unchanged though applied.
  same = augment.apply(x, _always({"xflip": jnp.asarray([0])}), _ada("xflip"), p=1.0)
  np.testing.assert_array_equal(same, x)


def test_ada_colour_transformations_equal_their_definitions():
  grey = jnp.asarray([0.5, -0.2]).reshape(1, 1, 2, 1)
  # Brightness, then contrast: 2 * (x + 0.1).
  out = augment.apply(grey, _always({"brightness": jnp.asarray([0.1]),
                                     "contrast": jnp.asarray([2.0])}),
                      _ada("brightness", "contrast"), p=0.5)
  np.testing.assert_allclose(out.ravel(), [1.2, -0.2], atol=1e-6)
  # Luma flip of a grey image negates it (the Householder reflection maps (x, x, x) to -(x, x, x)).
  out = augment.apply(grey, _always({"lumaflip": jnp.asarray([1])}), _ada("lumaflip"), p=0.5)
  np.testing.assert_allclose(out.ravel(), [-0.5, 0.2], atol=1e-6)

  rgb = jnp.asarray([0.3, -0.6, 0.9]).reshape(1, 1, 1, 3)  # mean 0.2
  out = augment.apply(rgb, _always({"lumaflip": jnp.asarray([1])}), _ada("lumaflip"), p=0.5)
  np.testing.assert_allclose(out.ravel(), [-0.1, -1.0, 0.5], atol=1e-6)  # x - 2 * mean
  # A hue rotation by 120° about the grey axis permutes the channels: (r, g, b) -> (b, r, g).
  out = augment.apply(rgb, _always({"hue": jnp.asarray([2 * math.pi / 3])}), _ada("hue"), p=0.5)
  np.testing.assert_allclose(out.ravel(), [0.9, 0.3, -0.6], atol=1e-6)
  # Saturation s scales the distance from the grey axis: s = 0 gives grey, s = 2 doubles it.
  for s, expected in ((0.0, [0.2, 0.2, 0.2]), (2.0, [0.4, -1.4, 1.6])):
    out = augment.apply(rgb, _always({"saturation": jnp.asarray([s])}), _ada("saturation"), p=0.5)
    np.testing.assert_allclose(out.ravel(), expected, atol=1e-6)
  # Hue and saturation leave a grey image alone (ADA skips them for one channel).
  out = augment.apply(grey, _always({"hue": jnp.asarray([1.0]), "saturation": jnp.asarray([3.0])}),
                      _ada("hue", "saturation"), p=0.5)
  np.testing.assert_array_equal(out, grey)


def test_images_in_zero_one_are_augmented_as_their_minus_one_one_image():
  x = jax.random.uniform(jax.random.key(0), (4, 8, 8, 3))
  params = augment.draw(jax.random.key(1), 4, (8, 8, 3), ADA)
  in_unit = augment.apply(x, params, _ada(*augment.ADA_OPERATIONS, value_range=(0.0, 1.0)), p=0.7)
  in_symmetric = augment.apply(2 * x - 1, params, ADA, p=0.7)
  np.testing.assert_allclose(2 * in_unit - 1, in_symmetric, atol=1e-5)


def test_ada_applies_each_transformation_with_probability_p():
  num = 20_000
  x = jnp.broadcast_to(jnp.asarray([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None], (num, 2, 2, 1))
  params = augment.draw(jax.random.key(3), num, (2, 2, 1), _ada("xflip", "rotate90"))
  assert float(jnp.abs(augment.apply(x, params, _ada("xflip", "rotate90"), p=0.0) - x).max()) == 0
  for p in (0.2, 0.6):
    flipped = augment.apply(x, params, _ada("xflip"), p=p)
    # A flip happens when applied (p) and the coin says so (1/2).
    share = float(jnp.mean(jnp.any(flipped != x, axis=(1, 2, 3))))
    assert share == pytest.approx(p / 2, abs=0.01)
    rotated = augment.apply(x, params, _ada("rotate90"), p=p)
    share = float(jnp.mean(jnp.any(rotated != x, axis=(1, 2, 3))))
    assert share == pytest.approx(3 * p / 4, abs=0.015)  # k = 1, 2, 3 of 0..3


@pytest.mark.parametrize("method, operation", [
    *[("diffaugment", name) for name in augment.DIFFAUGMENT_POLICIES],
    *[("ada", name) for name in augment.ADA_OPERATIONS]])
def test_every_augmentation_is_differentiable(method, operation):
  options = augment.AugmentOptions(method=method, operations=(operation,))
  x = jax.random.uniform(jax.random.key(0), (4, 8, 8, 3), minval=-1.0, maxval=1.0)
  weights = jax.random.normal(jax.random.key(1), x.shape)
  params = augment.draw(jax.random.key(2), 4, (8, 8, 3), options)
  loss = lambda images: jnp.sum(weights * augment.apply(images, params, options, p=1.0))
  grads = jax.grad(loss)(x)
  assert np.all(np.isfinite(grads)) and float(jnp.abs(grads).sum()) > 0
  # The gradient is that of the map: a finite difference along a random direction agrees.
  direction = jax.random.normal(jax.random.key(4), x.shape)
  eps = 1e-2
  numeric = (loss(x + eps * direction) - loss(x - eps * direction)) / (2 * eps)
  assert float(jnp.sum(grads * direction)) == pytest.approx(float(numeric), rel=2e-2, abs=2e-2)


def test_unknown_names_and_non_square_rotations_are_refused():
  assert augment.parse_operations("ada", "", "color,xflip") == (
      "xflip",) + augment.ADA_COLOR
  with pytest.raises(ValueError, match="comma-separated"):
    augment.parse_operations("diffaugment", "colour", "")
  with pytest.raises(ValueError, match="square"):
    augment.augment(jnp.zeros((2, 4, 6, 1)), jax.random.key(0), _ada("rotate90"), p=0.5)


# ---------------------------------------------------------------------------------------------
# ADA's controller.


def test_adjust_ada_moves_p_by_the_images_shown_towards_the_target():
  options = augment.AugmentOptions(method="ada", ada_target=0.6, ada_interval=4, ada_kimg=0.5)
  ada = augment.AdaState.create(0.5)
  for sign in (1.0, 0.8, 0.9, 0.7):  # r_t = 0.85 > 0.6 after 4 D updates
    ada = augment.accumulate_signs(ada, jnp.asarray(sign))
  # Not due after step 3; due after step 4: + 4 updates x 32 images / 500 images.
  assert float(augment.adjust_ada(ada, 3, 32, options).p) == 0.5
  adjusted = augment.adjust_ada(ada, 4, 32, options)
  assert float(adjusted.p) == pytest.approx(0.5 + 128 / 500)
  assert float(adjusted.sign_sum) == 0 and int(adjusted.num_updates) == 0
  low, high = augment.AdaState.create(0.1), augment.AdaState.create(0.95)
  for _ in range(4):
    low = augment.accumulate_signs(low, jnp.asarray(-0.2))
    high = augment.accumulate_signs(high, jnp.asarray(1.0))
  assert float(augment.adjust_ada(low, 4, 32, options).p) == 0.0  # 0.1 - 0.256, clipped at 0
  assert float(augment.adjust_ada(high, 4, 32, options).p) == 1.0  # 0.95 + 0.256, clipped at 1
  fixed = augment.AugmentOptions(method="ada", ada_interval=0)
  assert float(augment.adjust_ada(high, 4, 32, fixed).p) == pytest.approx(0.95)


TINY_SHAPE = (8, 8, 1)


def _tiny_dcgan_state(ada_p=None, pack=1, generator_tx=None, discriminator_tx=None):
  config = dcgan_fashion_mnist.get_config()
  config.model.update(latent_dim=8, generator_features=(6, 4), discriminator_features=(4, 6),
                      generator_kernel_sizes=(3, 3), discriminator_kernel_sizes=(3, 3),
                      dropout_rate=0.0)
  generator, discriminator = registry.create_models(config.model, TINY_SHAPE)
  return train_state.create_train_state(
      jax.random.key(0), generator, discriminator, generator_tx or optax.sgd(0.1),
      discriminator_tx or optax.sgd(0.1), latent_dim=8, image_shape=TINY_SHAPE, ada_p=ada_p,
      pack=pack)


def _batch(num, seed=0):
  return {"image": jax.random.uniform(jax.random.key(seed), (num, *TINY_SHAPE), minval=-1.0,
                                      maxval=1.0)}


def test_ada_p_follows_r_t_on_a_discriminator_that_overfits_on_purpose():
  """Eight fixed real images, G frozen (learning rate 0), D trained fast with Adam: at first D
  calls the real images fake (r_t = -1 < 0.6) and p falls; once D has learnt them (r_t -> 1) p
  climbs. Every adjustment has the sign of (r_t over its interval - target) and the size of the
  images shown, 2 steps x 8 images / 400."""
  options = augment.AugmentOptions(method="ada", operations=augment.ADA_OPERATIONS,
                                   ada_interval=2, ada_kimg=0.4)
  step = jax.jit(functools.partial(train_step.train_step,
                                   options=StepOptions(augmentation=options)))
  state = _tiny_dcgan_state(ada_p=0.2, generator_tx=optax.sgd(0.0),
                            discriminator_tx=optax.adam(1e-2))
  batch = _batch(8)
  r_t, p = [], [float(np.float32(0.2))]
  for _ in range(30):
    state, metrics = step(state, batch, jax.random.key(1))
    r_t.append(float(metrics["ada_rt"]))
    p.append(float(metrics["ada_p"]))
  moves = []
  for i in range(1, 30, 2):  # After steps 2, 4, ...: the interval's two steps.
    change = p[i + 1] - p[i - 1]
    direction = np.sign(np.mean(r_t[i - 1:i + 1]) - 0.6)
    expected = float(np.clip(p[i - 1] + direction * 16 / 400, 0.0, 1.0)) - p[i - 1]
    assert change == pytest.approx(expected, abs=1e-6), (i, r_t, p)
    assert p[i] == p[i - 1]  # Between adjustments p stays.
    moves.append(direction)
  assert -1 in moves and 1 in moves
  assert np.all(np.asarray(r_t[-6:]) > 0.6) and p[-1] > p[0]  # D overfits; p rose past its start


def _run_on(devices, options, state, num_steps=2, batch_size=8):
  mesh = data_parallel.create_mesh(devices)
  step = data_parallel.parallelize_train_step(
      functools.partial(train_step.train_step, options=options), mesh, donate_state=False)
  state = jax.device_put(state, data_parallel.replicated(mesh))
  for i in range(num_steps):
    batch = jax.device_put(_batch(batch_size, seed=i), data_parallel.batch_sharded(mesh))
    state, metrics = step(state, batch, jax.random.key(3))
  return state, metrics


@pytest.mark.parametrize("method, update_order, pack", [
    ("diffaugment", "alternating", 1), ("ada", "simultaneous", 2)])
def test_augmented_step_on_two_devices_equals_one_device(method, update_order, pack):
  """Each device augments its shard with its slice of one global draw: 2 devices train what one
  does (with packing: augmented per sample, then packed)."""
  operations = (augment.DIFFAUGMENT_POLICIES if method == "diffaugment" else
                augment.ADA_OPERATIONS)
  options = StepOptions(update_order=update_order, pack=pack,
                        augmentation=augment.AugmentOptions(method=method, operations=operations,
                                                            ada_interval=1, ada_kimg=0.1))
  state = _tiny_dcgan_state(ada_p=0.5 if method == "ada" else None, pack=pack)
  (state_1, metrics_1), (state_2, metrics_2) = (
      _run_on(devices, options, state) for devices in (jax.devices()[:1], jax.devices()[:2]))
  for a, b in zip(jax.tree_util.tree_leaves((state_1, metrics_1)),
                  jax.tree_util.tree_leaves((state_2, metrics_2))):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
  if method == "ada":
    assert float(state_1.ada.p) != 0.5  # Adjusted after each step (interval 1).


@pytest.mark.parametrize("update_order", train_step.UPDATE_ORDERS)
def test_every_update_order_augments_all_that_d_sees_in_both_updates(update_order, monkeypatch):
  """Traced (not compiled): D's update augments its real and its generated batch, G's update
  the generated batch it backpropagates through; a packed D gets the samples augmented before
  they are packed."""
  calls = []
  original = augment.apply

  def recording_apply(images, params, options, p=None):
    out = original(images, params, options, p)
    calls.append(images.shape)
    return out

  monkeypatch.setattr(augment, "apply", recording_apply)
  options = StepOptions(update_order=update_order, pack=2, augmentation=augment.AugmentOptions(
      method="diffaugment", operations=("translation",)))
  state = _tiny_dcgan_state(pack=2)
  jax.eval_shape(functools.partial(train_step.train_step, options=options), state, _batch(8),
                 jax.random.key(0))
  # Real and generated in D's loss, generated in G's: 8 unpacked samples each time.
  assert calls == [(8, *TINY_SHAPE)] * 3


@pytest.mark.parametrize("overrides, message", [
    ({"method": "diffaug"},
     "config.augment.method='diffaug' is invalid: choose one of ('none', 'diffaugment', 'ada')"),
    ({"diffaugment_policy": "color,zoom"},
     "config.augment.diffaugment_policy='color,zoom' is invalid: give a comma-separated "
     "selection of ('color', 'translation', 'cutout')"),
    ({"ada_pipeline": "blit,geom"},
     "config.augment.ada_pipeline='blit,geom' is invalid: give a comma-separated selection of "
     "the groups ('blit', 'color')"),
    ({"method": "ada", "ada_p": 1.5}, "config.augment.ada_p=1.5 is invalid: it must be a "
     "probability in [0, 1]"),
    ({"ada_target": 1.0}, "config.augment.ada_target=1.0 is invalid: it must be in (-1, 1)"),
    ({"ada_interval": -1}, "config.augment.ada_interval=-1 is invalid: it must be an integer >= 0"),
    ({"ada_kimg": -5.0}, "config.augment.ada_kimg=-5.0 is invalid: it must be a positive number"),
])
def test_bad_augment_fields_are_one_line_errors(overrides, message):
  config = dcgan_fashion_mnist.get_config()
  with config.augment.ignore_type():
    config.augment.update(overrides)
  with pytest.raises(UserError) as error:
    config_validation.validate_config(config, num_devices=1)
  assert message in str(error.value)


def test_augmenting_two_d_points_is_refused():
  config = toy2d_ring8.get_config()
  config.augment.method = "diffaugment"
  with pytest.raises(UserError, match="2-D points"):
    config_validation.validate_config(config, num_devices=1)
