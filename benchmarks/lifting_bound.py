"""How well 2D keypoints must be seen before 3D pose can beat the mean-pose baseline.

  python benchmarks/lifting_bound.py [--output demo_output] [--workdirs demo_output/run]
      [--errors 0,2,5,10,20] [--num_lift 50000]

An oracle that reads nothing but the 14 true LSP keypoints of a synthetic person, blurred by 2D
noise, and lifts them to 3D: a two-layer MLP (Martinez et al. 2017's "simple baseline" for
lifting, without its extras) trained on --num_lift people of the benchmark's training stream
with fresh noise every epoch, scored with PA-MPJPE on test-stream people (hmr_tf.synth.benchmark
seeds; the first --num_test are the rendered test split). The noise is isotropic Gaussian, sized
so that its mean 2D distance is the given percentage of the person's torso (left shoulder to
right hip, the unit of LSP's PCK). The oracle sees hidden joints too, so it is an upper bound for
any model whose keypoints are that good. Each trained workdir in --workdirs is measured the same
way on the rendered test split (its 2D error and its PA-MPJPE), and the oracle is trained once
more at that model's 2D error. Prints two markdown tables.
"""

import argparse
import os

import keras
import numpy as np

import machine  # pylint: disable=wrong-import-position  (benchmarks/machine.py, beside this script)
import quickstart_data  # pylint: disable=wrong-import-position  (benchmarks/quickstart_data.py)
from hmr_tf import joints
from hmr_tf.body import SMPL
from hmr_tf.body import mean_params
from hmr_tf.evaluation import baselines
from hmr_tf.evaluation import evaluate
from hmr_tf.evaluation import metrics
from hmr_tf.synth import benchmark
from hmr_tf.training import workdir as workdir_lib

_NUM_LSP = len(joints.LSP_14)
_MEAN_DISTANCE_PER_SIGMA = np.sqrt(np.pi / 2)  # of an isotropic 2D Gaussian
_EPOCHS = 30
_CHUNK = 1024  # people posed per SMPL call


def people(split_name, image_size, count):
  """The first `count` people of a split's stream: ([N, 14, 2] pixels, [N, 14, 3] metres,
  pelvis-centred)."""
  world = benchmark.world(split_name, "free", image_size)
  points3d, points2d = [], []
  for start in range(0, count, _CHUNK):
    keypoints, uv = world.keypoints(range(start, min(start + _CHUNK, count)))
    points3d.append(metrics.align_by_pelvis(keypoints[:, :_NUM_LSP]))
    points2d.append(uv[:, :_NUM_LSP])
  return np.concatenate(points2d), np.concatenate(points3d)


def blurred(points2d, error, rng):
  """`points2d` moved by Gaussian noise whose mean distance is `error` × each torso, then
  centred on their box and divided by its diagonal (the lifter's input, [N, 28])."""
  sigma = error * metrics.torso(points2d) / _MEAN_DISTANCE_PER_SIGMA
  noisy = points2d + sigma[:, None, None] * rng.standard_normal(points2d.shape)
  low, high = noisy.min(axis=1, keepdims=True), noisy.max(axis=1, keepdims=True)
  diagonal = np.linalg.norm(high - low, axis=-1, keepdims=True)
  return ((noisy - (low + high) / 2) / diagonal).reshape(len(noisy), -1)


def lifting_pa_mpjpe(train, test, error, seed=0):
  """PA-MPJPE (mm) on `test` of a lifter trained on `train` at the same 2D error."""
  keras.utils.set_random_seed(seed)
  rng = np.random.default_rng(seed)
  lifter = keras.Sequential([keras.Input((2 * _NUM_LSP,)),
                             keras.layers.Dense(1024, activation="relu"),
                             keras.layers.Dense(1024, activation="relu"),
                             keras.layers.Dense(3 * _NUM_LSP)])
  lifter.compile(keras.optimizers.Adam(1e-3), "mse")
  targets = train[1].reshape(len(train[1]), -1)
  for _ in range(_EPOCHS):  # fresh noise every epoch
    lifter.fit(blurred(train[0], error, rng), targets, batch_size=256, epochs=1, verbose=0)
  pred = lifter.predict(blurred(test[0], error, rng), batch_size=1024, verbose=0)
  return 1000 * metrics.pa_mpjpe(pred.reshape(test[1].shape), test[1]).mean()


def measured(workdir, data_dir):
  """A trained model on the rendered test split: (mean 2D error / torso, PA-MPJPE in mm)."""
  model, _ = workdir_lib.load_model(workdir)
  predictions = evaluate.predict(model, data_dir, "test")
  gt = predictions.gt_keypoints2d
  error = metrics.error2d(predictions.pred_keypoints2d, gt[..., :2], gt[..., 2] > 0)
  pa_mpjpe = 1000 * metrics.pa_mpjpe(predictions.pred_joints, predictions.gt_joints).mean()
  return float(np.nanmean(error)), pa_mpjpe


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  quickstart_data.add_output_flag(parser)
  parser.add_argument("--workdirs", default="",
                      help="comma-separated trained workdirs to measure, e.g. demo_output/run")
  parser.add_argument("--errors", default="0,2,5,10,20", help="2D errors, %% of the torso")
  parser.add_argument("--num_lift", type=int, default=50000)
  parser.add_argument("--num_test", type=int, default=2000)
  args = parser.parse_args()
  config, folders = quickstart_data.load(args.output)
  image_size = config.model.image_size
  smpl = SMPL("free")
  train = people("train", image_size, args.num_lift)
  test = people("test", image_size, args.num_test)
  constant = baselines.ConstantModel(mean_params.load_mean_params(folders.mean_params), smpl,
                                     image_size)
  one_image = np.zeros((1, image_size, image_size, 3), np.float32)
  base_joints = constant(one_image)["keypoints3d"][:, :_NUM_LSP]
  baseline = 1000 * metrics.pa_mpjpe(np.repeat(base_joints, len(test[1]), axis=0),
                                     test[1]).mean()

  print(f"{machine.describe()}; oracle lifter trained on {args.num_lift} people, "
        f"{_EPOCHS} epochs; {args.num_test} test people; mean-pose baseline "
        f"PA-MPJPE {baseline:.1f} mm\n")
  print("| 2D error (% of torso) | lifted PA-MPJPE (mm) | × baseline |")
  print("|---:|---:|---:|")
  for percent in (float(e) for e in args.errors.split(",")):
    pa_mpjpe = lifting_pa_mpjpe(train, test, percent / 100)
    print(f"| {percent:g} | {pa_mpjpe:.1f} | {pa_mpjpe / baseline:.2f} |", flush=True)

  workdirs = [w for w in args.workdirs.split(",") if w]
  if workdirs:
    print("\n| model | its 2D error (% of torso) | its PA-MPJPE (mm) | the oracle's at that "
          "2D error (mm) |")
    print("|---|---:|---:|---:|")
  for workdir in workdirs:
    error, pa_mpjpe = measured(workdir, folders.data)
    print(f"| {os.path.normpath(workdir)} | {100 * error:.1f} | {pa_mpjpe:.1f} | "
          f"{lifting_pa_mpjpe(train, test, error):.1f} |", flush=True)


if __name__ == "__main__":
  main()
