"""Inception-v3 (FID): structure of the full network, the weights-file loading path on a small
random network of the same structure, and the block arithmetic against PyTorch."""

import numpy as np
import pytest

import jax

from gan_jax.errors import UserError
from gan_jax.evaluation import inception


def test_full_network_has_the_fid_inception_parameters():
  """torchvision's inception_v3 has 27,161,264 parameters; without its classifier (fc:
  2,049,000) and auxiliary head (3,326,696) that leaves pytorch-fid's 21,785,568."""
  shapes = inception.state_dict_shapes(inception.InceptionV3())
  parameters = {k: s for k, s in shapes.items() if not k.endswith(("running_mean", "running_var"))}
  assert sum(int(np.prod(s)) for s in parameters.values()) == 21_785_568
  assert sum(k.endswith("conv.weight") for k in shapes) == 94  # BasicConv2d layers
  assert shapes["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
  assert shapes["Mixed_5b.branch_pool.conv.weight"] == (32, 192, 1, 1)
  assert shapes["Mixed_6e.branch7x7_2.conv.weight"] == (192, 192, 1, 7)
  assert shapes["Mixed_7c.branch3x3dbl_3b.conv.weight"] == (384, 384, 3, 1)
  assert shapes["Mixed_7c.branch_pool.conv.weight"] == (192, 2048, 1, 1)


def test_weights_round_trip_through_the_loading_path(small_inception_weights):
  path, module, state_dict = small_inception_weights
  variables = inception.load_variables(path, module)
  round_trip = inception.to_state_dict(variables)
  assert sorted(round_trip) == sorted(state_dict)
  for key, array in state_dict.items():
    np.testing.assert_array_equal(round_trip[key], array)


def test_extractor_features(small_inception_weights):
  path, _, _ = small_inception_weights
  extractor = inception.inception_extractor(path, channel_divisor=16, input_size=75)
  images = jax.random.uniform(jax.random.key(0), (5, 28, 28, 1))
  features = np.asarray(extractor(images, batch_size=2)["features"])  # 3 batches, last padded
  assert features.shape == (5, 2048 // 16)
  assert np.all(np.isfinite(features)) and np.all(features >= 0) and features.std() > 0
  # Inference mode: an image's features do not depend on the rest of its batch or the padding.
  reversed_order = np.asarray(extractor(images[::-1], batch_size=2)["features"])[::-1]
  np.testing.assert_allclose(features, reversed_order, rtol=1e-5, atol=1e-6)


def test_missing_file_is_one_user_error(tmp_path):
  with pytest.raises(UserError, match="Inception weights file .* not found"):
    inception.inception_extractor(str(tmp_path / "pt_inception.npz"))


def test_wrong_weights_are_refused(small_inception_weights, tmp_path):
  _, module, state_dict = small_inception_weights
  broken = dict(state_dict)
  del broken["Mixed_6a.branch3x3.conv.weight"]
  broken["classifier.weight"] = np.zeros(3, np.float32)
  path = tmp_path / "broken.npz"
  np.savez(path, **broken)
  with pytest.raises(UserError, match=r"1 parameters missing \(first: \['Mixed_6a.branch3x3"):
    inception.load_variables(str(path), module)
  wrong_shape = dict(state_dict)
  wrong_shape["Conv2d_1a_3x3.conv.weight"] = np.zeros((4, 3, 3, 3), np.float32)
  np.savez(path, **wrong_shape)
  with pytest.raises(UserError, match="'Conv2d_1a_3x3.conv.weight' has shape"):
    inception.load_variables(str(path), module)


# PyTorch reference of two blocks, written from the architecture description (pytorch-fid's
# FIDInceptionA: average pool not counting padding; FIDInceptionE_2: max-pool branch).

def _torch_basic_conv(x, state_dict, prefix, stride=1, padding=0):
  import torch.nn.functional as F  # pylint: disable=g-import-not-at-top
  x = F.conv2d(x, state_dict[f"{prefix}.conv.weight"], stride=stride, padding=padding)
  x = F.batch_norm(x, state_dict[f"{prefix}.bn.running_mean"],
                   state_dict[f"{prefix}.bn.running_var"], state_dict[f"{prefix}.bn.weight"],
                   state_dict[f"{prefix}.bn.bias"], training=False, eps=1e-3)
  return F.relu(x)


def _torch_inception_a(x, sd):
  import torch  # pylint: disable=g-import-not-at-top
  import torch.nn.functional as F  # pylint: disable=g-import-not-at-top
  conv = lambda y, name, **kw: _torch_basic_conv(y, sd, name, **kw)
  branch5x5 = conv(conv(x, "branch5x5_1"), "branch5x5_2", padding=2)
  branch3x3dbl = conv(conv(conv(x, "branch3x3dbl_1"), "branch3x3dbl_2", padding=1),
                      "branch3x3dbl_3", padding=1)
  pool = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
  return torch.cat([conv(x, "branch1x1"), branch5x5, branch3x3dbl, conv(pool, "branch_pool")], 1)


def _torch_inception_e_max_pool(x, sd):
  import torch  # pylint: disable=g-import-not-at-top
  import torch.nn.functional as F  # pylint: disable=g-import-not-at-top
  conv = lambda y, name, **kw: _torch_basic_conv(y, sd, name, **kw)
  branch3x3 = conv(x, "branch3x3_1")
  branch3x3 = torch.cat([conv(branch3x3, "branch3x3_2a", padding=(0, 1)),
                         conv(branch3x3, "branch3x3_2b", padding=(1, 0))], 1)
  dbl = conv(conv(x, "branch3x3dbl_1"), "branch3x3dbl_2", padding=1)
  dbl = torch.cat([conv(dbl, "branch3x3dbl_3a", padding=(0, 1)),
                   conv(dbl, "branch3x3dbl_3b", padding=(1, 0))], 1)
  pool = F.max_pool2d(x, 3, stride=1, padding=1)
  return torch.cat([conv(x, "branch1x1"), branch3x3, dbl, conv(pool, "branch_pool")], 1)


@pytest.mark.parametrize("block, reference", [
    (inception.InceptionA(16, pool_features=32), _torch_inception_a),
    (inception.InceptionE(16, max_pool_branch=True), _torch_inception_e_max_pool),
])
def test_blocks_compute_what_pytorch_computes_on_the_same_state_dict(block, reference,
                                                                  random_state_dict):
  torch = pytest.importorskip("torch")
  images = np.random.default_rng(1).normal(size=(2, 7, 7, 12)).astype(np.float32)
  state_dict = random_state_dict(inception.state_dict_shapes(block, images), seed=2)
  ours = block.apply(inception.from_state_dict(state_dict, block, images), images)
  with torch.no_grad():
    theirs = reference(torch.from_numpy(images).permute(0, 3, 1, 2),
                       {k: torch.from_numpy(v) for k, v in state_dict.items()})
  np.testing.assert_allclose(np.asarray(ours), theirs.permute(0, 2, 3, 1).numpy(), rtol=1e-4,
                             atol=1e-4)
