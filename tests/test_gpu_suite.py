"""benchmarks/gpu_suite.py rehearsed on CPU with --tiny (what the GPU run will execute, in
seconds): every section writes its rows, the summary table and the profile, without TensorFlow,
clu or ml_collections."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tiny_rehearsal_writes_every_section(tmp_path, python_without):
  with_torch = importlib.util.find_spec("torch") is not None
  args = ["--tiny", f"--out={tmp_path}", "--peak_tflops=1"] + ([] if with_torch else ["--no_torch"])
  result = python_without(("tensorflow", "tensorflow_datasets", "clu", "ml_collections"),
                          f"from benchmarks import gpu_suite\ngpu_suite.main({args!r})\n",
                          timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  with open(tmp_path / "rows.jsonl") as f:
    records = [json.loads(line) for line in f]
  assert records[0]["row"] == "bf16 matmul peak" and records[0]["tflops_per_s"] > 0
  sections = [r.get("section") for r in records[1:]]
  assert sections[-1] == "profile" and records[-1]["top_ops"]
  steps = [r for r in records[1:-1]]
  assert {r["section"] for r in steps} == {"dcgan64", "rps", "mlp", "sweep"}
  assert [r["batch_size"] for r in steps if r["section"] == "sweep"] == [2, 4]
  jax_rows = [r for r in steps if r["row"].startswith("jax")]
  assert {(r["batch_size"], r["dtype"]) for r in jax_rows if r["section"] == "dcgan64"} == {
      (2, "float32")}
  for r in jax_rows:
    assert r["images_per_s"] > 0 and r["gflop_per_step"] > 0
    assert r["mfu_nominal"] == pytest.approx(r["gflops_per_s"] / 1e3, rel=0.01, abs=1e-4)
  rps = [r for r in steps if r["section"] == "rps"]
  assert all(r["seconds_per_rps_epoch"] == pytest.approx(2520 / r["images_per_s"], rel=0.01)
             for r in rps)
  if with_torch:
    torch_rows = [r for r in steps if r["row"].startswith("torch")]
    assert torch_rows and all(r["ratio_to_best_torch"] <= 1.0 for r in torch_rows)
  summary = (tmp_path / "summary.md").read_text()
  assert summary.count("\n| dcgan64 |") == len([r for r in steps if r["section"] == "dcgan64"])
  # The sweep's plot, as docs/performance.md makes it from the GPU run's rows.
  plotted = subprocess.run([sys.executable, "benchmarks/plot_sweep.py", str(tmp_path / "rows.jsonl"),
                            f"--out={tmp_path / 'sweep.png'}"], cwd=REPO, capture_output=True,
                           text=True, timeout=300)
  assert plotted.returncode == 0, plotted.stderr[-3000:]
  assert (tmp_path / "sweep.png").stat().st_size > 10_000
