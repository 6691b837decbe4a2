"""hmr-quickstart: the embedded default, end to end, on a laptop CPU (what `make demo` runs).

  hmr-quickstart --output demo_output [--body_model free] [--num 64] [--image_size 128]

The longest path that exists today, with no download and no licence:
  1. renders --num synthetic people with the free body model (hmr_tf.synth) into TFRecord
     shards, and a pool of poses sampled within joint limits for the discriminator, as
     `hmr-synth` and `hmr-synth --poses_only` do;
  2. reads both back through the training input pipeline (hmr_tf.data.pipeline: parse,
     decode, HMR's augmentation, mocap batches) and draws one batch with its keypoints:
     input_batch.png;
  3. poses the body of the first image from its stored SMPL ground truth, draws the mesh over
     the image with the headless renderer (overlay.png) and writes it as person_0.obj, plus
     the body in the rest and walking poses (body_rest.obj, body_walking.obj);
  4. trains HMR with configs/quickstart.py on those images for --train_steps steps into run/
     (hmr-train's workdir: checkpoints, TensorBoard logs) and prints the first and last losses.
"""

import importlib.util
import os
import shutil

from absl import app
from absl import flags
import cv2
import numpy as np
import tensorflow as tf

from hmr_tf import joints
from hmr_tf import mesh_io
from hmr_tf import render
from hmr_tf.body import SMPL
from hmr_tf.body import poses
from hmr_tf.cli import report
from hmr_tf.data import pipeline
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.synth import generate
from hmr_tf.synth import pose_pool
from hmr_tf.synth import split
from hmr_tf.training import trainer

_OUTPUT = flags.DEFINE_string("output", "demo_output", "Directory for the results.")
_BODY_MODEL = flags.DEFINE_string(
    "body_model", "free", "Body model: 'free', 'free:<variant>:<gender>' or an SMPL file.")
_NUM = flags.DEFINE_integer("num", 64, "Synthetic images to render.", lower_bound=16)
_IMAGE_SIZE = flags.DEFINE_integer("image_size", 128, "Side of the synthetic images, pixels.",
                                   lower_bound=32)

_TRAIN_STEPS = flags.DEFINE_integer(
    "train_steps", 300, "Training steps of configs/quickstart.py on the rendered images.",
    lower_bound=1)

_BATCH = 16
_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "configs", "quickstart.py")
# The losses printed before and after training.
_SHOWN_LOSSES = ("loss/encoder", "loss/keypoints", "loss/joints3d", "loss/adversarial")
_ZOOM = 3
_SKELETON = [(joints.COCOPLUS_19.index(a), joints.COCOPLUS_19.index(b)) for a, b in [
    ("right_ankle", "right_knee"), ("right_knee", "right_hip"), ("left_ankle", "left_knee"),
    ("left_knee", "left_hip"), ("right_wrist", "right_elbow"), ("right_elbow", "right_shoulder"),
    ("left_wrist", "left_elbow"), ("left_elbow", "left_shoulder"), ("right_hip", "left_hip"),
    ("right_shoulder", "left_shoulder"), ("neck", "head_top")]]


def input_batch_sheet(data_dir, mocap_dir, image_size):
  """One augmented training batch, images with their keypoints, as a 4-wide grid [H, W, 3]."""
  person, _ = next(iter(pipeline.train_dataset([data_dir], [mocap_dir], _BATCH, image_size,
                                               seed=0)))
  tiles = []
  for image, keypoints in zip(person["image"].numpy(), person["keypoints2d"].numpy()):
    tile = np.ascontiguousarray(((image + 1.0) * 127.5).astype(np.uint8))
    pixels = np.concatenate([(keypoints[:, :2] + 1.0) * image_size / 2 - 0.5,
                             keypoints[:, 2:]], axis=1)
    tiles.append(render.draw_keypoints(tile, pixels, _SKELETON, color=(255, 60, 60), radius=2,
                                       thickness=1))
  rows = [np.concatenate(tiles[i:i + 4], axis=1) for i in range(0, len(tiles), 4)]
  return np.concatenate(rows, axis=0)


def ground_truth_overlay(data_dir, smpl):
  """The first stored image with its ground-truth mesh drawn over it, and that mesh [V, 3]."""
  record = next(iter(tf.data.TFRecordDataset(shards.shard_files(data_dir, "train")[:1])))
  example = schema.parse_person(record)
  out = smpl(example["smpl/pose"][None], example["smpl/shape"][None])
  # The schema keeps no translation: it is where the 3D joints are, less where SMPL puts them.
  keypoints3d = example["keypoints3d"].numpy()
  translation = np.mean(keypoints3d - out["keypoints"][0, :len(keypoints3d)].numpy(), axis=0)
  vertices = out["vertices"][0].numpy() + translation
  # Drawn _ZOOM times larger than stored, so that the small synthetic image can be seen.
  image = cv2.resize(tf.io.decode_jpeg(example["image/encoded"]).numpy(), None, fx=_ZOOM,
                     fy=_ZOOM, interpolation=cv2.INTER_CUBIC)
  fx, fy, cx, cy = example["camera/intrinsics"].numpy()
  camera = render.Camera(fx * _ZOOM, fy * _ZOOM, (cx + 0.5) * _ZOOM - 0.5,
                         (cy + 0.5) * _ZOOM - 0.5)
  overlay, fragments = render.render(vertices, smpl.faces, camera, background=image)
  blended = np.where(fragments.mask[..., None], (0.6 * overlay + 0.4 * image), image)
  side_by_side = np.concatenate([image, blended.astype(np.uint8)], axis=1)
  return side_by_side, vertices


def train_stage(data_dir, mocap_dir, workdir, steps):
  """Trains configs/quickstart.py on the rendered images into a fresh workdir.

  Returns:
    The trainer's history: [(step, {metric: mean over the steps since the previous entry})].
  """
  if not os.path.isfile(_CONFIG):
    raise FileNotFoundError(f"no {_CONFIG}: hmr-quickstart runs from a checkout of hmr_tf")
  spec = importlib.util.spec_from_file_location("quickstart_config", _CONFIG)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config()
  config.train.steps = steps
  config.data.train = data_dir
  config.data.mocap = mocap_dir
  shutil.rmtree(workdir, ignore_errors=True)  # the demo trains from scratch every time
  return trainer.train(config, workdir).history


def _losses(metrics):
  return ", ".join(f"{name.split('/')[1]} {metrics[name]:.4f}" for name in _SHOWN_LOSSES
                   if name in metrics)


def main(argv):
  del argv
  output = _OUTPUT.value
  data_dir = os.path.join(output, "synth")
  mocap_dir = os.path.join(output, "mocap_joint_limits")
  world = generate.SynthWorld([_BODY_MODEL.value], image_size=_IMAGE_SIZE.value, seed=0)
  stats = split.write_split(world, data_dir, "train", _NUM.value, items_per_shard=32)
  pose_pool.write_pose_pool(mocap_dir, 3 * _NUM.value)

  sheet = input_batch_sheet(data_dir, mocap_dir, image_size=_IMAGE_SIZE.value)
  cv2.imwrite(os.path.join(output, "input_batch.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))

  smpl = SMPL(_BODY_MODEL.value)
  overlay, vertices = ground_truth_overlay(data_dir, smpl)
  cv2.imwrite(os.path.join(output, "overlay.png"), cv2.cvtColor(overlay, cv2.COLOR_RGB2BGR))
  mesh_io.write_obj(os.path.join(output, "person_0.obj"), vertices, smpl.faces)
  named = {"rest": poses.REST, "walking": poses.WALKING}
  posed = smpl(np.stack(list(named.values())), np.zeros((len(named), smpl.num_betas)))
  for i, name in enumerate(named):
    mesh_io.write_obj(os.path.join(output, f"body_{name}.obj"), posed["vertices"][i].numpy(),
                      smpl.faces)

  history = train_stage(data_dir, mocap_dir, os.path.join(output, "run"), _TRAIN_STEPS.value)
  starts = [1] + [step + 1 for step, _ in history[:-1]]
  for start, (step, metrics) in zip(starts, history):
    if step in (history[0][0], history[-1][0]):
      report.done("hmr-quickstart", f"training steps {start}-{step}: {_losses(metrics)}")
  report.done("hmr-quickstart", f"trained HMR (configs/quickstart.py) for {history[-1][0]} "
              f"steps in {output}/run/ (tensorboard --logdir {output}/run/logs)")
  report.done("hmr-quickstart", f"wrote in {output}/ input_batch.png (one augmented training "
              f"batch from the input pipeline), overlay.png (image 0 and its ground-truth mesh, "
              f"drawn by the headless renderer), person_0.obj (that mesh), body_rest.obj and "
              f"body_walking.obj (the body posed); from {stats.examples} synthetic images of "
              f"body model {smpl.body_model} in {data_dir}/ (shards + info.json) and "
              f"{3 * _NUM.value} joint-limit poses in {mocap_dir}/")


def run():
  app.run(main)


if __name__ == "__main__":
  run()
