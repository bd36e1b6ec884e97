"""scripts/summarize_evaluations.py: mean ± std over seeds from the evaluation JSONs runs write."""

import json
import os

import pytest

from scripts import summarize_evaluations


def _run(root, name, step, fd, modes):
  os.makedirs(os.path.join(root, name, "evaluation"))
  record = {"metrics": {"fd": {"value": fd, "num_samples": 10},
                        "mixture_modes": {"modes_captured": modes,
                                          "high_quality_fraction": 0.5}}}
  with open(os.path.join(root, name, "evaluation", f"step_{step:06d}.json"), "w") as f:
    json.dump(record, f)
  return os.path.join(root, name)


def test_mean_and_sample_std_over_the_newest_evaluation_of_each_run(tmp_path):
  runs = [_run(str(tmp_path), f"seed{i}", 100, fd, modes)
          for i, (fd, modes) in enumerate([(10.0, 8), (12.0, 6), (14.0, 7)])]
  _run(str(tmp_path), "seed0_old", 50, 99.0, 1)  # not part of the group
  # An older evaluation of seed 0 is ignored: the newest step counts.
  with open(os.path.join(runs[0], "evaluation", "step_000050.json"), "w") as f:
    json.dump({"metrics": {"fd": {"value": 1000.0}}}, f)
  rows = summarize_evaluations.summarize([("GAN", runs)])
  label, num_runs, steps, stats = rows[0]
  assert (label, num_runs, steps) == ("GAN", 3, [100])
  assert stats["fd"] == pytest.approx((12.0, 2.0))
  assert stats["modes_captured"] == pytest.approx((7.0, 1.0))
  table = summarize_evaluations.to_markdown(rows)
  assert "| GAN | 3 | 100 | 12.0 ± 2.0 | 0.500 ± 0.000 | 7.000 ± 1.000 |" in table


def test_a_num_seeds_run_counts_each_seed_and_standard_error_divides_by_sqrt_runs(tmp_path):
  workdir = tmp_path / "three_seeds"
  for seed, modes in enumerate([20, 23, 26]):
    folder = workdir / "evaluation" / f"seed_{seed}"
    folder.mkdir(parents=True)
    with open(folder / "step_000400.json", "w") as f:
      json.dump({"metrics": {"stacked_mnist_modes": {"modes_covered": modes,
                                                      "kl_uniform": 1.0 + seed}}}, f)
  rows = summarize_evaluations.summarize([("DCGAN", [str(workdir)])])
  assert rows[0][:3] == ("DCGAN", 3, [400])
  assert rows[0][3]["modes_covered"] == pytest.approx((23.0, 3.0))
  rows = summarize_evaluations.summarize([("DCGAN", [str(workdir)])], standard_error=True)
  assert rows[0][3]["modes_covered"] == pytest.approx((23.0, 3.0 / 3 ** 0.5))
  assert rows[0][3]["modes_kl_uniform"] == pytest.approx((2.0, 1.0 / 3 ** 0.5))
