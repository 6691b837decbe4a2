"""Leeds Sports Pose (LSP): 2000 images of one person each; the first 1000 train, the rest test.

  hmr-convert lsp --input lsp_dataset --output datasets/lsp

The input folder holds joints.mat, whose variable `joints` is 3×14×2000 (x, y and a flag that
is 0 where the joint is visible), and images/im0001.jpg … im2000.jpg. As in HMR, only visible
joints are labelled.

HMR stored the 150 px release (lsp_dataset) as released: its authors scaled each person to
about 150 px, HMR's own size. The original-size release (lsp_dataset_original) shares the
layout with people about three times larger; it is rescaled by HMR's diagonal rule instead
(person_scale.py). Which release a joints.mat belongs to is told by its median person size.
"""

import dataclasses
import os

import numpy as np

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.datasets import keypoints2d
from hmr_tf.datasets import person_scale
from hmr_tf.datasets import raw_files

KIND = "person"
SPLITS = ("train", "test")
SOURCE_JOINTS = joints.LSP_14
_NUM_TRAIN = 1000  # HMR's split (lsp_to_tfrecords.py)
# The 150 px releases' people have a median keypoint-box diagonal of 149 px (LSP-extended's
# 10 000), the original-size LSP's 430 px: between them, 1.5 × 150 tells them apart.
RELEASED_MAX_DIAGONAL = 1.5 * person_scale.DIAGONAL


@dataclasses.dataclass(frozen=True)
class Item:
  """One annotated image of an LSP-style dataset."""

  image_path: str
  keypoints: np.ndarray  # [14, 3] LSP order (x, y, visible), source pixels
  source: str  # file and entry, for error messages
  rule: str  # the person_scale rule: "as_released", or "diagonal" for original-size images


def read_joints(input_dir, layout, visible_flag):
  """The annotations of an LSP-style joints.mat.

  Args:
    input_dir: folder holding joints.mat.
    layout: the axes of `joints` in the file: "cji" (coordinate, joint, image) for LSP,
      "jci" for LSP-extended.
    visible_flag: the value of the third coordinate that marks a visible joint (LSP 0,
      LSP-extended 1).

  Returns:
    the path of joints.mat, and [N, 14, 3] (x, y, visible) with visible 1 or 0.
  """
  path = os.path.join(input_dir, "joints.mat")
  sizes = {"c": 3, "j": len(SOURCE_JOINTS), "i": "N"}  # coordinate, joint, image
  array = checks.array(raw_files.load_mat(path, ("joints",))["joints"],
                       tuple(sizes[axis] for axis in layout), "joints", path)
  keypoints = np.einsum(f"{layout}->ijc", array)
  flags = keypoints[..., 2]
  if not np.all((flags == 0) | (flags == 1)):
    raise checks.BadInput(f"{path}: field 'joints' should hold 0/1 visibility flags in row 3")
  keypoints[..., 2] = flags == visible_flag
  return path, keypoints


def scale_rule(keypoints):
  """"as_released" for the annotations of a 150 px release, "diagonal" for those of the
  original-size one, told by the median diagonal of the visible joints' boxes.

  Args:
    keypoints: [N, 14, 3] (x, y, visible), as read_joints returns them.
  """
  diagonals = [np.linalg.norm(np.ptp(k[k[:, 2] > 0, :2], axis=0))
               for k in keypoints if (k[:, 2] > 0).sum() > 1]
  if diagonals and np.median(diagonals) > RELEASED_MAX_DIAGONAL:
    return "diagonal"
  return "as_released"


def list_items(input_dir, split):
  """The 1000 train or the remaining test images, in file order."""
  if split not in SPLITS:
    raise ValueError(f"lsp has splits {SPLITS}, not '{split}'")
  path, keypoints = read_joints(input_dir, "cji", visible_flag=0)
  images = raw_files.find(input_dir, ["images/"], "image folder")
  rule = scale_rule(keypoints)
  indices = range(_NUM_TRAIN) if split == "train" else range(_NUM_TRAIN, len(keypoints))
  return [Item(os.path.join(images, f"im{i + 1:04d}.jpg"), keypoints[i],
               f"{path}: joints[:, :, {i}]", rule) for i in indices]


def make_examples(item):
  yield keypoints2d.example("lsp", item.image_path, item.keypoints, SOURCE_JOINTS, item.source,
                            item.rule)
