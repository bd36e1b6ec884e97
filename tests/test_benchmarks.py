"""benchmarks/: the models match configs/, the script runs without TensorFlow, clu or
ml_collections, and the PyTorch networks have the JAX networks' parameter counts."""

import json
import os
import subprocess
import sys

import jax
import pytest

from benchmarks import train_step as benchmark
from configs import dcgan64, dcgan_fashion_mnist, dcgan_rps, mlp_fashion_mnist
from gan_jax import train_state
from gan_jax.models import registry

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = {"mlp": mlp_fashion_mnist, "dcgan28": dcgan_fashion_mnist, "dcgan64": dcgan64,
           "dcgan_rps": dcgan_rps}


@pytest.mark.parametrize("model", sorted(CONFIGS))
def test_benchmark_models_are_the_configs_models(model):
  config = CONFIGS[model].get_config()
  _, fields, adam = benchmark.model_fields(model)
  assert dict(fields) == config.model.to_dict()
  assert adam == (config.optimizer.generator_learning_rate, config.optimizer.b1,
                  config.optimizer.b2)
  assert config.optimizer.name == "adam" and config.loss == "bce"


def test_runs_without_tensorflow_clu_or_ml_collections():
  """What the GPU machine has: JAX (and PyTorch), none of the training-only packages."""
  code = (
      "import sys\n"
      "for name in ('tensorflow', 'clu', 'ml_collections', 'tensorflow_datasets'):\n"
      "  sys.modules[name] = None\n"
      "from benchmarks import train_step\n"
      "train_step.main(['--model=mlp', '--batch_size=8', '--steps=2', '--repeats=1',\n"
      "                 '--warmup_steps=1', '--steps_per_dispatch=2'])\n")
  result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": REPO})
  assert result.returncode == 0, result.stderr[-3000:]
  records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
  assert [r["row"] for r in records] == ["jax", "jax steps_per_dispatch=2"]
  assert all(r["steps_per_s"] > 0 and r["compile_s"] > 0 for r in records)


@pytest.mark.parametrize("model", ["mlp", "dcgan28", "dcgan64", "dcgan_rps"])
def test_torch_networks_have_the_jax_parameter_counts(model):
  torch_reference = pytest.importorskip("benchmarks.torch_reference")
  image_shape, fields, _ = benchmark.model_fields(model)
  generator, discriminator = registry.create_models(fields, image_shape)
  shapes = jax.eval_shape(lambda: train_state.create_train_state(
      jax.random.key(0), generator, discriminator, benchmark.optax.sgd(0.1),
      benchmark.optax.sgd(0.1), latent_dim=fields.latent_dim, image_shape=image_shape))
  torch_generator, torch_discriminator = torch_reference.create_networks(model)
  for network, torch_network in ((shapes.generator, torch_generator),
                                 (shapes.discriminator, torch_discriminator)):
    assert train_state.count_parameters(network.params) == sum(
        p.numel() for p in torch_network.parameters())
  # And the PyTorch generator makes images of the right shape.
  import torch  # pylint: disable=g-import-not-at-top
  torch_generator.eval()
  images = torch_generator(torch.zeros(2, fields.latent_dim))
  assert tuple(images.shape) == (2, image_shape[2], *image_shape[:2])


def test_plot_sweep_draws_a_png_from_benchmark_lines(tmp_path):
  from benchmarks import plot_sweep  # pylint: disable=g-import-not-at-top
  lines = tmp_path / "sweep.jsonl"
  common = {"model": "dcgan64", "dtype": "float32", "device": "cpu: cpu", "jax": "0",
            "torch": "0", "peak_memory_kind": "host process peak RSS (ru_maxrss)"}
  with open(lines, "w") as f:
    f.write("# {\"device\": \"cpu\"}\n")
    for batch_size in (32, 64):
      for row, memory in (("jax", 2**30 * batch_size / 32), ("torch eager", None)):
        f.write(json.dumps({**common, "batch_size": batch_size, "row": row,
                            "images_per_s": 10.0 * batch_size,
                            "peak_memory_bytes": memory}) + "\n")
  out = str(tmp_path / "sweep.png")
  plot_sweep.main([str(lines), f"--out={out}"])
  with open(out, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
