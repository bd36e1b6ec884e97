"""Inception-v3 pool3 features (the FID standard) as a Flax module, loaded from a weights file.

The network is the FID variant of Inception-v3 used by pytorch-fid (Seitzer, "pytorch-fid:
FID Score for PyTorch"), a port of the TensorFlow graph of Heusel et al. 2017; it differs from
torchvision's Inception-v3 in two places: the average pools of the A, C and first E blocks do
not count padding, and the last E block's pool branch is a max pool. Images in [0, 1] are
resized to 299x299 (bilinear, half-pixel centres, no antialiasing: torch's
`interpolate(..., align_corners=False)`), scaled to [-1, 1], grayscale repeated to 3 channels;
the features are the 2,048 averages of the last block (pool3).

No weights are shipped (they are ~95 MB and not ours to redistribute). The weights file is an
`.npz` holding the PyTorch state dict of that network, arrays under their PyTorch names and
layouts ("Conv2d_1a_3x3.conv.weight" [out, in, kh, kw], "Mixed_5b.branch1x1.bn.running_mean",
...; "fc.*", "AuxLogits.*" and "*.num_batches_tracked" are ignored). From pytorch-fid's
`pt_inception-2015-12-05-6726825d.pth`:

    python -c "import numpy as np, torch; sd = torch.load('pt_inception-2015-12-05-6726825d.pth',
      map_location='cpu'); np.savez('pt_inception.npz', **{k: v.numpy() for k, v in sd.items()})"

`channel_divisor` and `input_size` shrink the same structure for tests (a network with every
width divided by 16, on 75x75 inputs, runs in milliseconds).
"""

import os
from typing import Tuple

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import UserError
from gan_jax.evaluation import features as features_lib

BATCH_NORM_EPSILON = 1e-3
POOL3_FEATURES = 2048


def _pad(padding):
  if isinstance(padding, int):
    padding = (padding, padding)
  return ((padding[0], padding[0]), (padding[1], padding[1]))


class BasicConv(nn.Module):
  """Conv (no bias) + BatchNorm (inference statistics) + ReLU; submodules named as in PyTorch."""

  features: int
  kernel_size: Tuple[int, int]
  strides: int = 1
  padding: object = 0

  @nn.compact
  def __call__(self, x):
    x = nn.Conv(self.features, self.kernel_size, strides=self.strides,
                padding=_pad(self.padding), use_bias=False, name="conv")(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=BATCH_NORM_EPSILON, name="bn")(x)
    return nn.relu(x)


def _avg_pool_3x3(x):
  return nn.avg_pool(x, (3, 3), strides=(1, 1), padding=_pad(1), count_include_pad=False)


def _max_pool_3x3_stride_2(x):
  return nn.max_pool(x, (3, 3), strides=(2, 2))


class _Block(nn.Module):
  divisor: int = 1

  def conv(self, features, kernel_size, name, strides=1, padding=0):
    if isinstance(kernel_size, int):
      kernel_size = (kernel_size, kernel_size)
    return BasicConv(max(1, features // self.divisor), kernel_size, strides, padding, name=name)


class InceptionA(_Block):
  pool_features: int = 32

  @nn.compact
  def __call__(self, x):
    branch1x1 = self.conv(64, 1, "branch1x1")(x)
    branch5x5 = self.conv(64, 5, "branch5x5_2", padding=2)(self.conv(48, 1, "branch5x5_1")(x))
    branch3x3dbl = self.conv(64, 1, "branch3x3dbl_1")(x)
    branch3x3dbl = self.conv(96, 3, "branch3x3dbl_2", padding=1)(branch3x3dbl)
    branch3x3dbl = self.conv(96, 3, "branch3x3dbl_3", padding=1)(branch3x3dbl)
    branch_pool = self.conv(self.pool_features, 1, "branch_pool")(_avg_pool_3x3(x))
    return jnp.concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=-1)


class InceptionB(_Block):

  @nn.compact
  def __call__(self, x):
    branch3x3 = self.conv(384, 3, "branch3x3", strides=2)(x)
    branch3x3dbl = self.conv(64, 1, "branch3x3dbl_1")(x)
    branch3x3dbl = self.conv(96, 3, "branch3x3dbl_2", padding=1)(branch3x3dbl)
    branch3x3dbl = self.conv(96, 3, "branch3x3dbl_3", strides=2)(branch3x3dbl)
    return jnp.concatenate([branch3x3, branch3x3dbl, _max_pool_3x3_stride_2(x)], axis=-1)


class InceptionC(_Block):
  channels_7x7: int = 128

  @nn.compact
  def __call__(self, x):
    c7 = self.channels_7x7
    branch1x1 = self.conv(192, 1, "branch1x1")(x)
    branch7x7 = self.conv(c7, 1, "branch7x7_1")(x)
    branch7x7 = self.conv(c7, (1, 7), "branch7x7_2", padding=(0, 3))(branch7x7)
    branch7x7 = self.conv(192, (7, 1), "branch7x7_3", padding=(3, 0))(branch7x7)
    branch7x7dbl = self.conv(c7, 1, "branch7x7dbl_1")(x)
    branch7x7dbl = self.conv(c7, (7, 1), "branch7x7dbl_2", padding=(3, 0))(branch7x7dbl)
    branch7x7dbl = self.conv(c7, (1, 7), "branch7x7dbl_3", padding=(0, 3))(branch7x7dbl)
    branch7x7dbl = self.conv(c7, (7, 1), "branch7x7dbl_4", padding=(3, 0))(branch7x7dbl)
    branch7x7dbl = self.conv(192, (1, 7), "branch7x7dbl_5", padding=(0, 3))(branch7x7dbl)
    branch_pool = self.conv(192, 1, "branch_pool")(_avg_pool_3x3(x))
    return jnp.concatenate([branch1x1, branch7x7, branch7x7dbl, branch_pool], axis=-1)


class InceptionD(_Block):

  @nn.compact
  def __call__(self, x):
    branch3x3 = self.conv(320, 3, "branch3x3_2", strides=2)(self.conv(192, 1, "branch3x3_1")(x))
    branch7x7x3 = self.conv(192, 1, "branch7x7x3_1")(x)
    branch7x7x3 = self.conv(192, (1, 7), "branch7x7x3_2", padding=(0, 3))(branch7x7x3)
    branch7x7x3 = self.conv(192, (7, 1), "branch7x7x3_3", padding=(3, 0))(branch7x7x3)
    branch7x7x3 = self.conv(192, 3, "branch7x7x3_4", strides=2)(branch7x7x3)
    return jnp.concatenate([branch3x3, branch7x7x3, _max_pool_3x3_stride_2(x)], axis=-1)


class InceptionE(_Block):
  # pytorch-fid: average pool (padding not counted) in Mixed_7b, max pool in Mixed_7c.
  max_pool_branch: bool = False

  @nn.compact
  def __call__(self, x):
    branch1x1 = self.conv(320, 1, "branch1x1")(x)
    branch3x3 = self.conv(384, 1, "branch3x3_1")(x)
    branch3x3 = jnp.concatenate([
        self.conv(384, (1, 3), "branch3x3_2a", padding=(0, 1))(branch3x3),
        self.conv(384, (3, 1), "branch3x3_2b", padding=(1, 0))(branch3x3)], axis=-1)
    branch3x3dbl = self.conv(448, 1, "branch3x3dbl_1")(x)
    branch3x3dbl = self.conv(384, 3, "branch3x3dbl_2", padding=1)(branch3x3dbl)
    branch3x3dbl = jnp.concatenate([
        self.conv(384, (1, 3), "branch3x3dbl_3a", padding=(0, 1))(branch3x3dbl),
        self.conv(384, (3, 1), "branch3x3dbl_3b", padding=(1, 0))(branch3x3dbl)], axis=-1)
    if self.max_pool_branch:
      pooled = nn.max_pool(x, (3, 3), strides=(1, 1), padding=_pad(1))
    else:
      pooled = _avg_pool_3x3(x)
    branch_pool = self.conv(192, 1, "branch_pool")(pooled)
    return jnp.concatenate([branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=-1)


class InceptionV3(nn.Module):
  """Images [batch, H, W, 1 or 3] in [0, 1] -> {"features": pool3 [batch, 2048 / divisor]}."""

  channel_divisor: int = 1
  input_size: int = 299

  @nn.compact
  def __call__(self, images):
    d = self.channel_divisor
    x = jnp.asarray(images, jnp.float32)
    if x.shape[-1] == 1:
      x = jnp.repeat(x, 3, axis=-1)
    x = jax.image.resize(x, (x.shape[0], self.input_size, self.input_size, 3), "bilinear",
                         antialias=False)
    x = 2.0 * x - 1.0
    conv = lambda features, kernel, name, **kw: BasicConv(
        max(1, features // d), (kernel, kernel), name=name, **kw)
    x = conv(32, 3, "Conv2d_1a_3x3", strides=2)(x)
    x = conv(32, 3, "Conv2d_2a_3x3")(x)
    x = conv(64, 3, "Conv2d_2b_3x3", padding=1)(x)
    x = _max_pool_3x3_stride_2(x)
    x = conv(80, 1, "Conv2d_3b_1x1")(x)
    x = conv(192, 3, "Conv2d_4a_3x3")(x)
    x = _max_pool_3x3_stride_2(x)
    x = InceptionA(d, pool_features=32, name="Mixed_5b")(x)
    x = InceptionA(d, pool_features=64, name="Mixed_5c")(x)
    x = InceptionA(d, pool_features=64, name="Mixed_5d")(x)
    x = InceptionB(d, name="Mixed_6a")(x)
    x = InceptionC(d, channels_7x7=128, name="Mixed_6b")(x)
    x = InceptionC(d, channels_7x7=160, name="Mixed_6c")(x)
    x = InceptionC(d, channels_7x7=160, name="Mixed_6d")(x)
    x = InceptionC(d, channels_7x7=192, name="Mixed_6e")(x)
    x = InceptionD(d, name="Mixed_7a")(x)
    x = InceptionE(d, max_pool_branch=False, name="Mixed_7b")(x)
    x = InceptionE(d, max_pool_branch=True, name="Mixed_7c")(x)
    return {"features": jnp.mean(x, axis=(1, 2))}


# PyTorch parameter name -> (Flax collection, Flax leaf name).
_TORCH_TO_FLAX = {
    "conv.weight": ("params", "kernel"),
    "bn.weight": ("params", "scale"),
    "bn.bias": ("params", "bias"),
    "bn.running_mean": ("batch_stats", "mean"),
    "bn.running_var": ("batch_stats", "var"),
}
_FLAX_TO_TORCH = {value: key.split(".")[1] for key, value in _TORCH_TO_FLAX.items()}
_IGNORED_PREFIXES = ("fc.", "AuxLogits.")


def _ignored(key):
  return key.startswith(_IGNORED_PREFIXES) or key.endswith(".num_batches_tracked")


def _torch_key(collection, path):
  """("params", ("Mixed_5b", "branch1x1", "conv", "kernel")) -> "Mixed_5b.branch1x1.conv.weight"."""
  *modules, leaf = path
  return ".".join([*modules, _FLAX_TO_TORCH[(collection, leaf)]])


def _to_torch_layout(key, array):
  # Flax convolution kernels are [kh, kw, in, out]; PyTorch's are [out, in, kh, kw].
  return np.transpose(array, (3, 2, 0, 1)) if key.endswith("conv.weight") else array


def to_state_dict(variables):
  """Flax variables of `InceptionV3` -> {PyTorch name: numpy array in PyTorch layout}."""
  state_dict = {}
  for collection, tree in variables.items():
    for path, array in flax.traverse_util.flatten_dict(flax.core.unfreeze(tree)).items():
      key = _torch_key(collection, path)
      state_dict[key] = _to_torch_layout(key, np.asarray(array))
  return state_dict


def _expected_variables(module, example_input):
  """{PyTorch name: (Flax collection, Flax path, Flax shape)} of `module`'s variables."""
  if example_input is None:
    example_input = jnp.zeros((1, module.input_size, module.input_size, 3))
  skeleton = jax.eval_shape(module.init, jax.random.key(0), example_input)
  expected = {}
  for collection, tree in skeleton.items():
    for path, shape_dtype in flax.traverse_util.flatten_dict(tree).items():
      expected[_torch_key(collection, path)] = (collection, path, tuple(shape_dtype.shape))
  return expected


def state_dict_shapes(module, example_input=None):
  """{PyTorch name: shape in PyTorch layout} the weights file must hold for `module`."""
  shapes = {}
  for key, (_, _, shape) in _expected_variables(module, example_input).items():
    shapes[key] = (shape[3], shape[2], shape[0], shape[1]) if key.endswith("conv.weight") else shape
  return shapes


def from_state_dict(state_dict, module, example_input=None):
  """{PyTorch name: array} -> Flax variables for `module`, every name and shape checked.

  Args:
    state_dict: PyTorch names to arrays in PyTorch layout.
    module: the `InceptionV3` (or one of its blocks, with `example_input`).
    example_input: an input of the module's shape; default: a 299x299 (`input_size`) image.

  Raises:
    UserError: a parameter of the network is missing, has the wrong shape, or the file holds
      parameters the network does not have.
  """
  expected = _expected_variables(module, example_input)
  unexpected = sorted(k for k in state_dict if not _ignored(k) and k not in expected)
  missing = sorted(k for k in expected if k not in state_dict)
  if missing or unexpected:
    raise UserError(
        f"The Inception weights do not match the FID Inception-v3 (channel_divisor="
        f"{getattr(module, 'channel_divisor', 1)}): {len(missing)} parameters missing (first: "
        f"{missing[:3]}), {len(unexpected)} unexpected (first: {unexpected[:3]}). Convert "
        "pytorch-fid's pt_inception state dict as docs/evaluation.md shows.")
  flat = {}
  for key, (collection, path, shape) in expected.items():
    array = np.asarray(state_dict[key], np.float32)
    array = np.transpose(array, (2, 3, 1, 0)) if key.endswith("conv.weight") else array
    if array.shape != shape:
      raise UserError(f"Inception weight {key!r} has shape {np.asarray(state_dict[key]).shape} "
                      f"(PyTorch layout); the network needs {state_dict_shapes(module, example_input)[key]}.")
    flat[(collection, *path)] = jnp.asarray(array)
  return flax.traverse_util.unflatten_dict(flat)


def load_variables(path, module):
  """Flax variables for `module` from an `.npz` PyTorch state dict (see the module docstring)."""
  if not path or not os.path.isfile(path):
    raise UserError(
        f"Inception weights file {path!r} not found. FID needs the FID Inception-v3 weights as "
        "an .npz of pytorch-fid's pt_inception state dict (docs/evaluation.md says how to make "
        "it); or evaluate with the domain classifier (extractor='classifier').")
  try:
    with np.load(path) as archive:
      state_dict = {key: archive[key] for key in archive.files}
  except (OSError, ValueError) as e:
    raise UserError(f"Inception weights file {path!r} is not a readable .npz ({e}).") from e
  return from_state_dict(state_dict, module)


def inception_extractor(weights_path, channel_divisor=1, input_size=299):
  """A `FeatureExtractor` of pool3 features from the weights in `weights_path` (any image size)."""
  module = InceptionV3(channel_divisor=channel_divisor, input_size=input_size)
  variables = load_variables(weights_path, module)
  apply_fn = jax.jit(lambda images: module.apply(variables, images))
  name = "inception_v3_pool3" if channel_divisor == 1 else f"inception_v3_pool3_div{channel_divisor}"
  return features_lib.FeatureExtractor(
      name=name, apply_fn=apply_fn, input_shape=None, num_classes=None,
      info={"weights": os.path.abspath(weights_path), "input_size": input_size,
            "channel_divisor": channel_divisor})
