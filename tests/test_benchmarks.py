"""benchmarks/: the models match configs/, the script runs without TensorFlow, clu or
ml_collections, and the PyTorch networks have the JAX networks' parameter counts."""

import json

import jax
import pytest

from benchmarks import train_step as benchmark
from configs import dcgan64, dcgan_fashion_mnist, dcgan_rps, mlp_fashion_mnist, pacgan_grid25
from gan_jax import train_state
from gan_jax.models import registry

CONFIGS = {"mlp": mlp_fashion_mnist, "dcgan28": dcgan_fashion_mnist, "dcgan64": dcgan64,
           "dcgan_rps": dcgan_rps, "toy2d": pacgan_grid25}


@pytest.mark.parametrize("model", sorted(CONFIGS))
def test_benchmark_models_are_the_configs_models(model):
  config = CONFIGS[model].get_config()
  _, fields, adam = benchmark.model_fields(model)
  assert dict(fields) == config.model.to_dict()
  assert adam == (config.optimizer.generator_learning_rate, config.optimizer.b1,
                  config.optimizer.b2)
  assert config.optimizer.name == "adam" and config.loss == "bce"
  assert config.update_order == benchmark.UPDATE_ORDERS.get(model, "alternating")
  assert (config.pack_batch == "inputs") == (model in benchmark.PACKED_INPUTS)


def test_runs_without_tensorflow_clu_or_ml_collections(python_without):
  """What the GPU machine has: JAX (and PyTorch), none of the training-only packages."""
  code = (
      "from benchmarks import train_step\n"
      "train_step.main(['--model=toy2d', '--batch_size=100', '--steps=2', '--repeats=1',\n"
      "                 '--warmup_steps=1', '--steps_per_dispatch=2', '--num_seeds=2',\n"
      "                 '--pack=2', '--peak_size=256'])\n")
  result = python_without(("tensorflow", "clu", "ml_collections", "tensorflow_datasets"), code)
  assert result.returncode == 0, result.stderr[-3000:]
  records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
  rows = ["peak", "jax", "jax steps_per_dispatch=2", "jax num_seeds=2"]
  assert [r["row"] for r in records] == rows
  assert [r["pack"] for r in records if r["row"] == "jax"] == [2]
  peaks = [r for r in records if r["row"] == "peak"]
  assert all(r["gflops_per_s"] > 0 for r in peaks)
  steps = [r for r in records if r["row"] != "peak"]
  assert all(r["steps_per_s"] > 0 and r["compile_s"] > 0 for r in steps)
  for r in steps:  # XLA counts the step's FLOPs; K seeds are K times one.
    assert r["gflop_per_step"] > 0
    assert r["share_of_peak"] == pytest.approx(r["gflops_per_s"] / r["peak_gflops_per_s"],
                                               abs=2e-3)
  one, two = (next(r for r in steps if r["model"] == "toy2d" and r["row"] == name)
              for name in ("jax", "jax num_seeds=2"))
  # The unrolled seeds add a fixed cost per seed (key splits, slicing, stacking) that XLA counts
  # too: 12% of a batch-8 step on CI's CPU, under 1% at batch 100.
  assert two["gflop_per_step"] == pytest.approx(2 * one["gflop_per_step"], rel=0.03)
  # toy2d: batch_size counts packed inputs, so 2 x 100 points per step.
  assert one["images_per_s"] == pytest.approx(200 * one["steps_per_s"], rel=0.02)


@pytest.mark.parametrize("model,pack", [("mlp", 1), ("dcgan28", 1), ("dcgan64", 1),
                                        ("dcgan_rps", 1), ("toy2d", 3)])
def test_torch_networks_have_the_jax_parameter_counts(model, pack):
  torch_reference = pytest.importorskip("benchmarks.torch_reference")
  image_shape, fields, _ = benchmark.model_fields(model)
  generator, discriminator = registry.create_models(fields, image_shape)
  shapes = jax.eval_shape(lambda: train_state.create_train_state(
      jax.random.key(0), generator, discriminator, benchmark.optax.sgd(0.1),
      benchmark.optax.sgd(0.1), latent_dim=fields.latent_dim, image_shape=image_shape,
      pack=pack))
  torch_generator, torch_discriminator = torch_reference.create_networks(model, pack)
  for network, torch_network in ((shapes.generator, torch_generator),
                                 (shapes.discriminator, torch_discriminator)):
    assert train_state.count_parameters(network.params) == sum(
        p.numel() for p in torch_network.parameters())
  # And the PyTorch generator makes images of the right shape.
  import torch  # pylint: disable=g-import-not-at-top
  torch_generator.eval()
  images = torch_generator(torch.zeros(2, fields.latent_dim))
  if image_shape == (2,):
    assert tuple(images.shape) == (2, 2)
  else:
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


def test_patch_conv_benchmark_times_both_forms_of_every_layer(capsys):
  from benchmarks import patch_conv as benchmark_patch_conv  # pylint: disable=g-import-not-at-top
  benchmark_patch_conv.main(["--batch_size=2", "--repeats=1", "--step_repeats=0"])
  rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
  assert len(rows) == 2 * len(benchmark_patch_conv.LAYERS)
  assert {r["method"] for r in rows} == {"lax", "patches"}
  assert all(r["forward_ms"] > 0 and r["forward_backward_ms"] > 0 for r in rows)
  picks = {r["layer"]: r["auto_picks"] for r in rows}
  assert picks["D 4x4x256 -> 2x2x512 k5 s2"] == "patches"
  assert picks["D 28x28x3 -> 14x14x64 k5 s2"] == "lax"
