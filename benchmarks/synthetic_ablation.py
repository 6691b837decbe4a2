"""The paper's claims on the synthetic benchmark: paired vs unpaired vs encoder-only, T = 1 vs 3.

  python benchmarks/synthetic_ablation.py [--output /tmp/hmr_ablation] [--steps 2000]
      [--runs paired,unpaired,encoder_only,paired_t1] [--figure docs/synthetic_ablation.png]

Every run trains configs/quickstart.py for the same number of steps on the same synthetic
benchmark (hmr_tf.synth.benchmark: train and test splits and an unpaired joint-limit pose pool
from three seeds), in its own workdir, and is scored on the held-out test split:
  paired        2D keypoints + 3D joints + SMPL parameters + the adversarial prior (the paper)
  unpaired      2D keypoints + the adversarial prior: no 3D supervision at all
  encoder_only  2D keypoints only: no 3D supervision and no discriminator
  paired_t1     paired with T = 1 regressor iteration instead of 3
Per run: MPJPE and PA-MPJPE (mm), the share of predicted joint rotations farther than 15° from
every rotation the pool has for that joint (hmr_tf.evaluation.plausibility: our discriminator
plays no part), and the CPU seconds of training; the same for the mean-pose baseline and, for
the plausibility figure, the true test poses. Prints a markdown table, writes results.json
under --output and a picture of a few test people as each run sees them to --figure. A rerun
reuses finished runs (each workdir resumes, and keeps the CPU seconds already spent).
"""

import argparse
import json
import os
import resource
import time

import cv2
import numpy as np

import machine  # pylint: disable=wrong-import-position  (benchmarks/machine.py, beside this script)
from hmr_tf import render
from hmr_tf import theta as theta_lib
from hmr_tf.body import SMPL
from hmr_tf.body import mean_params
from hmr_tf.cli import quickstart
from hmr_tf.data import pipeline
from hmr_tf.evaluation import baselines
from hmr_tf.evaluation import evaluate
from hmr_tf.evaluation import plausibility
from hmr_tf.synth import benchmark
from hmr_tf.synth import poses
from hmr_tf.training import trainer

# Config overrides per run: the only differences between them.
RUNS = {
    "paired": {},
    "unpaired": {"train.mode": "unpaired"},
    "encoder_only": {"train.mode": "encoder_only", "loss.joints3d": 0.0, "loss.smpl": 0.0},
    "paired_t1": {"model.num_iterations": 1},
}
_TILE = 128  # pixels per picture cell
_SHOWN = 6  # test people in the picture


def run_config(folders, steps, overrides):
  config = quickstart.load_config(quickstart.Paths(folders.root), steps=steps)
  config.summary.images_every_steps = 0
  for path, value in overrides.items():
    section, name = path.split(".")
    config[section][name] = value
  return config


def train(folders, name, steps, overrides):
  """Trains one run, or resumes it; returns (model, its training CPU seconds over all calls)."""
  config = run_config(folders, steps, overrides)
  workdir = os.path.join(folders.root, "runs", name)
  spent_file = os.path.join(workdir, "cpu_seconds.json")  # what earlier calls spent
  spent = 0.0
  if os.path.isfile(spent_file):
    with open(spent_file, encoding="utf-8") as f:
      spent = json.load(f)
  start = _cpu_seconds()
  result = trainer.train(config, workdir)
  spent += _cpu_seconds() - start
  with open(spent_file, "w", encoding="utf-8") as f:
    json.dump(spent, f)
  return result.model, spent


def _cpu_seconds():
  usage = resource.getrusage(resource.RUSAGE_SELF)
  return usage.ru_utime + usage.ru_stime


def score(model, folders, pool_poses):
  """MPJPE, PA-MPJPE and the implausible share, from one pass over the test split."""
  poses = []

  def run(images):
    out = {key: value.numpy() for key, value in model(images, training=False).items()}
    poses.append(out["pose"])
    return out

  results = evaluate.evaluate_model(run, folders.data, "test", body_model=model.smpl,
                                    image_size=model.image_size)
  return {"mpjpe": results["mpjpe"], "pa_mpjpe": results["pa_mpjpe"],
          "implausible": plausibility.outside_share(np.concatenate(poses), pool_poses)}


def figure_row(smpl, pose, shape):
  """The bodies of a batch of poses, front view, side by side: [_TILE, n · _TILE, 3]."""
  out = smpl(pose.astype(np.float32), shape.astype(np.float32))
  cells = []
  for vertices in out["vertices"].numpy():
    vertices = vertices - vertices.mean(axis=0) + [0.0, 0.0, 4.0]  # 4 m in front of the camera
    camera = render.Camera(_TILE * 1.6, _TILE * 1.6, (_TILE - 1) / 2, (_TILE - 1) / 2)
    background = np.full((_TILE, _TILE, 3), 255, np.uint8)
    cells.append(render.render(vertices, smpl.faces, camera, background=background)[0])
  return np.concatenate(cells, axis=1)


def label(picture, text):
  cv2.putText(picture, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
  return picture


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--output", default="/tmp/hmr_ablation")
  parser.add_argument("--steps", type=int, default=2000)
  parser.add_argument("--runs", default=",".join(RUNS))
  parser.add_argument("--num_train", type=int, default=benchmark.NUM_TRAIN)
  parser.add_argument("--num_test", type=int, default=benchmark.NUM_TEST)
  parser.add_argument("--figure", default="docs/synthetic_ablation.png")
  args = parser.parse_args()
  names = args.runs.split(",")
  image_size = run_config(benchmark.Folders(args.output), args.steps, {}).model.image_size
  folders = benchmark.write_benchmark(args.output, "free", image_size, args.num_train,
                                      args.num_test)
  pool_poses = poses.load_mocap(folders.pool)["pose"]
  smpl = SMPL("free")
  batch = next(iter(pipeline.eval_dataset(folders.data, _SHOWN, image_size, "test")))
  images = [cv2.resize(((image + 1) * 127.5).astype(np.uint8), (_TILE, _TILE))
            for image in batch["image"].numpy()]
  rows = [label(np.concatenate(images, axis=1), "input"),
          label(figure_row(smpl, batch["pose"].numpy(), batch["shape"].numpy()), "truth")]
  results = {}
  baseline_theta = mean_params.load_mean_params(folders.mean_params)
  base = baselines.evaluate_mean_pose(folders.mean_params, folders.data, smpl, image_size)
  truth = np.concatenate([b["pose"].numpy() for b in
                          pipeline.eval_dataset(folders.data, 64, image_size, "test")])
  # The figure's floor: the true test poses are inside the joint limits, but the pool samples
  # them only so densely.
  results["test-set truth"] = {"mpjpe": 0.0, "pa_mpjpe": 0.0,
                               "implausible": plausibility.outside_share(truth, pool_poses)}
  base_pose = theta_lib.split(baseline_theta[None])[1]  # [1, 72]
  results["mean-pose baseline"] = {"mpjpe": base["mpjpe"], "pa_mpjpe": base["pa_mpjpe"],
                                   "implausible": plausibility.outside_share(base_pose,
                                                                             pool_poses)}
  for name in names:
    start = time.monotonic()
    model, cpu_seconds = train(folders, name, args.steps, RUNS[name])
    results[name] = dict(score(model, folders, pool_poses), cpu_seconds=cpu_seconds,
                         seconds=time.monotonic() - start)
    out = model(batch["image"], training=False)
    _, pose, shape = theta_lib.split(out["theta"].numpy())
    rows.append(label(figure_row(smpl, pose, shape), name))
  os.makedirs(os.path.dirname(os.path.abspath(args.figure)), exist_ok=True)
  cv2.imwrite(args.figure, cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
  with open(os.path.join(args.output, "results.json"), "w", encoding="utf-8") as f:
    json.dump(results, f, indent=2)

  print(f"{machine.describe()}; {args.steps} steps of batch 16 per run, {args.num_train} "
        f"training and {args.num_test} test people at {image_size} px\n")
  print("| run | MPJPE (mm) | PA-MPJPE (mm) | implausible rotations | training CPU s |")
  print("|---|---:|---:|---:|---:|")
  for name, r in results.items():
    implausible = f"{100 * r['implausible']:.1f}%" if "implausible" in r else ""
    cpu = f"{r['cpu_seconds']:.0f}" if "cpu_seconds" in r else ""
    print(f"| {name} | {r['mpjpe']:.1f} | {r['pa_mpjpe']:.1f} | {implausible} | {cpu} |")


if __name__ == "__main__":
  main()
