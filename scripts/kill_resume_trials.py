"""Kills a real training run with SIGKILL at random moments and checks every resume is exact.

    python scripts/kill_resume_trials.py --kills=20 --out=runs/kill_trials
    python scripts/kill_resume_trials.py --kills=8 --out=runs/kill_trials_ada \
        --override=--config.augment.method=ada --override=--config.augment.ada_kimg=1 \
        --override=--config.r1_gamma=1 --override=--config.regularization_interval=3

One reference run trains `--num_steps` steps without interruption, keeping a checkpoint every
`--checkpoint_every` steps. A second run in another workdir is started, killed with SIGKILL after a
random time, restarted with the same command, killed again, ... `--kills` times, then left to
finish. After each kill the newest checkpoint it left must equal the reference's checkpoint of
the same step bit for bit, and so must the final one: params, optimizer moments, BatchNorm
statistics, step, and with ADA its p and controller sums. `--override` adds config flags to
both runs (e.g. ADA with lazy R1, as above). Prints one line per kill and a JSON summary
(docs/reliability.md).
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time

from gan_jax import checkpointing

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--kills", type=int, default=20)
  parser.add_argument("--num_steps", type=int, default=400)
  parser.add_argument("--checkpoint_every", type=int, default=5)
  parser.add_argument("--max_run_seconds", type=float, default=6.0,
                      help="Each run is killed this many seconds (at most) after its first "
                           "training step, uniformly at random.")
  parser.add_argument("--config", default="configs/default.py")
  parser.add_argument("--seed", type=int, default=0, help="Seed of the kill times.")
  parser.add_argument("--override", action="append", default=[],
                      help="A config flag for both runs, e.g. --override=--config.augment.method="
                           "ada (repeatable).")
  parser.add_argument("--out", required=True, help="Folder for the two workdirs.")
  return parser.parse_args()


def command(args, workdir):
  return [sys.executable, "main.py", f"--config={args.config}", f"--workdir={workdir}",
          f"--config.num_train_steps={args.num_steps}", "--config.batch_size=16",
          f"--config.checkpoint_every_steps={args.checkpoint_every}",
          "--config.keep_checkpoints=100000", "--config.log_every_steps=10",
          "--config.eval_every_steps=0",
          f"--config.sample_every_steps={args.num_steps}", "--config.num_sample_images=16",
          *args.override]


def checkpoint_steps(workdir):
  directory = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(directory):
    return []
  return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def load(workdir, step):
  return checkpointing.restore_leaves(os.path.join(workdir, "checkpoints", str(step), "default"))


def bitwise_equal(workdir_a, workdir_b, step):
  a, b = load(workdir_a, step), load(workdir_b, step)
  return len(a) == len(b) and all(
      x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
      for x, y in zip(a, b))


def main():
  args = parse_args()
  rng = random.Random(args.seed)
  reference, killed = os.path.join(args.out, "reference"), os.path.join(args.out, "killed")
  for workdir in (reference, killed):
    if os.path.exists(workdir):
      sys.exit(f"{workdir} exists; pass a new --out.")
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
  start = time.time()
  subprocess.run(command(args, reference), cwd=REPO, env=env, check=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  print(f"reference: {args.num_steps} steps in {time.time() - start:.0f} s", flush=True)

  results = []
  while len(results) < args.kills:
    before = checkpoint_steps(killed)
    process = subprocess.Popen(command(args, killed), cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Training has started once the run's first checkpoint after its restore exists.
    while process.poll() is None and checkpoint_steps(killed)[-1:] == before[-1:]:
      time.sleep(0.05)
    time.sleep(rng.uniform(0.0, args.max_run_seconds))
    if process.poll() is not None:
      print("run finished before its kill; starting over with shorter runs", flush=True)
      args.max_run_seconds /= 2
      subprocess.run(["rm", "-rf", killed], check=True)
      continue
    process.send_signal(signal.SIGKILL)
    process.wait()
    step = checkpoint_steps(killed)[-1]
    equal = bitwise_equal(reference, killed, step)
    results.append({"kill": len(results) + 1, "newest_checkpoint": step, "bitwise_equal": equal})
    print(json.dumps(results[-1]), flush=True)

  subprocess.run(command(args, killed), cwd=REPO, env=env, check=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  final_equal = bitwise_equal(reference, killed, args.num_steps)
  summary = {"kills": len(results), "bitwise_equal_after_kill": sum(r["bitwise_equal"]
                                                                   for r in results),
             "final_step": args.num_steps, "final_bitwise_equal": final_equal,
             "distinct_resume_steps": len({r["newest_checkpoint"] for r in results}),
             "wall_s": round(time.time() - start)}
  print(json.dumps(summary))
  sys.exit(0 if final_equal and summary["bitwise_equal_after_kill"] == len(results) else 1)


if __name__ == "__main__":
  main()
