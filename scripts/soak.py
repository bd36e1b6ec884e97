"""Trains for a fixed wall time, sampling the process's memory, then preempts it with SIGTERM.

    python scripts/soak.py --minutes=30 --out=runs/soak

Runs `main.py` (default config unless --config) with checkpoints every --checkpoint_every steps,
samples the resident memory (RSS, from /proc) every --sample_seconds, reads steps/s from the
run's log, and after --minutes sends SIGTERM, which must end the run with a checkpoint and exit
status 0. Writes `soak.json` (samples and summary) and `soak.png` (RSS and steps/s over time) to
--out, and prints the summary (docs/reliability.md).
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_mib(pid):
  with open(f"/proc/{pid}/status") as f:
    for line in f:
      if line.startswith("VmRSS:"):
        return int(line.split()[1]) / 1024
  return float("nan")


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--minutes", type=float, default=30)
  parser.add_argument("--config", default="configs/default.py")
  parser.add_argument("--checkpoint_every", type=int, default=500)
  parser.add_argument("--sample_seconds", type=float, default=10)
  parser.add_argument("--out", required=True)
  parser.add_argument("--trace_python_heap", action="store_true",
                      help="Run main.py under scripts/python_heap_trace.py (tracemalloc): "
                      "python_heap.jsonl in --out says whether the Python heap grows.")
  args = parser.parse_args()
  if os.path.exists(args.out):
    sys.exit(f"{args.out} exists; pass a new --out.")
  os.makedirs(args.out)
  log_path = os.path.join(args.out, "main.log")
  with open(log_path, "w") as log:
    tracer = ([os.path.join("scripts", "python_heap_trace.py"),
               f"--out={os.path.abspath(os.path.join(args.out, 'python_heap.jsonl'))}", "--"]
              if args.trace_python_heap else ["main.py"])
    process = subprocess.Popen(
        [sys.executable, *tracer, f"--config={args.config}",
         f"--workdir={os.path.join(args.out, 'workdir')}", "--config.num_train_steps=100000000",
         f"--config.checkpoint_every_steps={args.checkpoint_every}", "--config.keep_checkpoints=3",
         "--config.sample_every_steps=5000", "--config.eval_every_steps=0"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
  start = time.time()
  samples = []
  while time.time() - start < args.minutes * 60 and process.poll() is None:
    samples.append({"t_s": round(time.time() - start, 1), "rss_mib": round(rss_mib(process.pid), 1),
                    "loadavg_1min": os.getloadavg()[0]})
    time.sleep(args.sample_seconds)
  if process.poll() is not None:
    sys.exit(f"main.py ended early with status {process.returncode}; see {log_path}")
  process.send_signal(signal.SIGTERM)
  returncode = process.wait(timeout=600)

  with open(log_path) as f:
    log_text = f.read()
  rates = [(int(step), float(rate)) for step, rate in
           re.findall(r"\[(\d+)\] steps_per_sec=([0-9.]+)", log_text)]
  checkpoints = sorted(int(name) for name in os.listdir(os.path.join(args.out, "workdir",
                                                                      "checkpoints"))
                       if name.isdigit())
  settled = [s["rss_mib"] for s in samples if s["t_s"] >= 120]  # After compilation and warm-up.
  half = len(rates) // 2
  summary = {
      "minutes": args.minutes, "exit_status_after_sigterm": returncode,
      "preempted_message": "Preempted: saved the checkpoint" in log_text,
      "steps": rates[-1][0] if rates else None, "newest_checkpoints": checkpoints,
      "rss_mib_first_settled": settled[0] if settled else None,
      "rss_mib_last": settled[-1] if settled else None,
      "rss_mib_max": max(settled) if settled else None,
      "steps_per_s_first_half_mean": round(sum(r for _, r in rates[:half]) / max(half, 1), 2),
      "steps_per_s_second_half_mean": round(
          sum(r for _, r in rates[half:]) / max(len(rates) - half, 1), 2),
      "loadavg_mean": round(sum(s["loadavg_1min"] for s in samples) / len(samples), 2),
  }
  with open(os.path.join(args.out, "soak.json"), "w") as f:
    json.dump({"summary": summary, "rss": samples, "steps_per_s": rates}, f, indent=1)

  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, (ax_rss, ax_rate) = plt.subplots(1, 2, figsize=(10, 3.2))
  ax_rss.plot([s["t_s"] / 60 for s in samples], [s["rss_mib"] for s in samples])
  ax_rss.set(xlabel="minutes", ylabel="RSS (MiB)", title="resident memory of main.py")
  ax_rss.set_ylim(bottom=0)
  ax_rate.plot([step for step, _ in rates], [rate for _, rate in rates], ".", markersize=2)
  ax_rate.set(xlabel="step", ylabel="steps/s", title="training speed (shared 2-core CPU)")
  ax_rate.set_ylim(bottom=0)
  fig.tight_layout()
  fig.savefig(os.path.join(args.out, "soak.png"), dpi=90)
  print(json.dumps(summary))


if __name__ == "__main__":
  main()
