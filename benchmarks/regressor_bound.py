"""How far HMR's regressor gets in the quickstart's budget when it is handed the true keypoints.

  python benchmarks/regressor_bound.py [--output demo_output] [--steps 2000,6000,20000]

The quickstart's model and training (configs/quickstart.py: its data, augmentation, losses,
optimizers, batch size) with the encoder replaced by the truth: the regressor's input is the
person's 19 ground-truth 2D keypoints after augmentation (x, y in the crop and visibility; hidden
ones zero, as the losses see them), zero-padded to the encoder's width. No image is read, so
what it reaches bounds what an encoder that finds the keypoints could give this regressor in as
many steps (an encoder could only do better by also reading depth from the pixels). Each run
is trained for the first number of --steps and then resumed to each further one, once with the
quickstart's recipe (dropout 0.5, the adversarial prior) and once without either (the regressor
alone, pulled only by the keypoint, 3D joint and SMPL losses). Scored with MPJPE and PA-MPJPE
on the rendered test split, beside the mean-pose baseline, with the CPU seconds since the
run began. Prints a markdown table.
"""

import argparse
import time

import keras
import numpy as np
import tensorflow as tf
import tqdm

import machine  # pylint: disable=wrong-import-position  (benchmarks/machine.py, beside this script)
import quickstart_data  # pylint: disable=wrong-import-position  (benchmarks/quickstart_data.py)
from hmr_tf import joints
from hmr_tf.data import pipeline
from hmr_tf.evaluation import baselines
from hmr_tf.evaluation import metrics
from hmr_tf.models.discriminator import Discriminator
from hmr_tf.training import inputs
from hmr_tf.training import step as step_lib
from hmr_tf.training import workdir as workdir_lib

_NUM_LSP = len(joints.LSP_14)
_VARIANTS = {"the quickstart's recipe": {},
             "no dropout, no prior": {"model.dropout": 0.0, "train.mode": "encoder_only"}}


class TrueKeypoints(keras.Model):
  """An HMR model whose `call` takes the true keypoints [B, 19, 3] instead of images and hands
  them, flattened and zero-padded to the encoder's width, to HMR's head."""

  def __init__(self, hmr, **kwargs):
    super().__init__(**kwargs)
    self.hmr = hmr
    hmr.encoder.trainable = False  # kept only for its output width; never called
    self.num_iterations, self.smpl = hmr.num_iterations, hmr.smpl

  def call(self, keypoints, training=False):
    features = tf.reshape(keypoints, [tf.shape(keypoints)[0], -1])
    padding = self.hmr.encoder.output.shape[-1] - features.shape[-1]
    return self.hmr.head(tf.pad(features, [[0, 0], [0, padding]]), training=training)


def keypoints_as_input(person, mocap):
  """The pipeline's batch with the true keypoints where the images were."""
  return dict(person, image=person["keypoints2d"]), mocap


def scores(model, data_dir, image_size):
  """(MPJPE, PA-MPJPE) in mm over the test split, the model fed each person's true keypoints."""
  pred, gt = [], []
  for batch in pipeline.eval_dataset(data_dir, 100, image_size, "test"):
    pred.append(model(batch["keypoints2d"], training=False)["keypoints3d"][:, :_NUM_LSP])
    gt.append(batch["keypoints3d"])
  pred, gt = np.concatenate(pred), np.concatenate(gt)
  return 1000 * metrics.mpjpe(pred, gt).mean(), 1000 * metrics.pa_mpjpe(pred, gt).mean()


def train_and_score(config, steps, data_dir, name):
  """Trains a TrueKeypoints model to each of `steps` in turn, yielding (step, MPJPE, PA-MPJPE,
  CPU seconds) at each."""
  keras.utils.set_random_seed(config.train.seed)
  model = TrueKeypoints(workdir_lib.build_model(config))
  discriminator = Discriminator(name="discriminator")
  optimizers = step_lib.make_optimizers(config, model, discriminator)
  train_step = step_lib.make_train_step(tf.distribute.get_strategy(), model, discriminator,
                                        optimizers, config)
  batches = iter(inputs.train_dataset(config).map(keypoints_as_input))
  done, start = 0, time.process_time()
  for target in steps:
    for _ in tqdm.trange(done, target, desc=name, leave=False):
      train_step(next(batches))
    done = target
    yield (target, *scores(model, data_dir, config.model.image_size),
           time.process_time() - start)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  quickstart_data.add_output_flag(parser)
  parser.add_argument("--steps", default="2000,6000,20000",
                      help="comma-separated step counts at which to score, increasing")
  args = parser.parse_args()
  steps = sorted(int(s) for s in args.steps.split(","))
  config, folders = quickstart_data.load(args.output)
  baseline = baselines.evaluate_mean_pose(folders.mean_params, folders.data, "free",
                                         config.model.image_size)
  print(f"{machine.describe()}; batch {config.train.batch_size}; mean-pose baseline "
        f"MPJPE {baseline['mpjpe']:.1f} mm, PA-MPJPE {baseline['pa_mpjpe']:.1f} mm\n")
  print("| regressor fed the true keypoints | steps | MPJPE (mm) | PA-MPJPE (mm) | "
        "PA-MPJPE × baseline | CPU s |")
  print("|---|---:|---:|---:|---:|---:|")
  for name, overrides in _VARIANTS.items():
    variant = config.copy_and_resolve_references()
    for key, value in overrides.items():
      section, field = key.split(".")
      variant[section][field] = value
    for target, mpjpe, pa_mpjpe, seconds in train_and_score(variant, steps, folders.data, name):
      print(f"| {name} | {target} | {mpjpe:.1f} | {pa_mpjpe:.1f} | "
            f"{pa_mpjpe / baseline['pa_mpjpe']:.2f} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
  main()
