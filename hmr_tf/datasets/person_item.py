"""The items that the 3D converters list: one labelled person in one source image, or a drop.

`list_items` does the reading of annotation files and the dataset's own sampling, and returns
small picklable items; `make_examples` only reads the image and crops it (person_crop). Items
that the dataset's own rules drop (a still frame, an invalid frame) stay in the list as
`Filtered`, so that the conversion's summary counts them by reason.
"""

import dataclasses

import numpy as np

from hmr_tf import joints
from hmr_tf.data.shards import SkipExample
from hmr_tf.datasets import person_crop
from hmr_tf.datasets import person_scale

# A body in a camera frame stands metres in front of the camera (Human3.6M 3-7 m, 3DHP 2-5 m);
# one moved to its root has its hips within centimetres of the origin.
ROOT_RELATIVE_DISTANCE = 1.0  # m: hips nearer the origin than this are root-relative
_HIPS = joints.LSP_14.indices(["left_hip", "right_hip"])


@dataclasses.dataclass(frozen=True)
class Filtered:
  """An item that the dataset's own rules drop, and why."""

  reason: str


@dataclasses.dataclass(frozen=True, eq=False)
class Person:
  """One person's labels, in the source image's pixels and the source camera's frame."""

  image_path: str
  image_id: str
  keypoints2d: np.ndarray  # [19, 3] cocoplus (x, y, visibility 0/1)
  keypoints3d: np.ndarray = None  # [14, 3] LSP, metres, camera frame (or root-relative)
  pose: np.ndarray = None  # [72] SMPL axis-angle, camera frame
  shape: np.ndarray = None  # [10]
  intrinsics: tuple = None  # (fx, fy, cx, cy)
  rule: str = "diagonal"  # the person_scale rule that sizes the crop from keypoints2d
  box: tuple = None  # (center x, center y, scale): the crop, where the rule cannot give it
  min_in_image: int = 0  # keep only if this many keypoints lie inside the image
  root_relative: bool = False  # keypoints3d relative to the pelvis (schema.py)
  universal: bool = False  # keypoints3d are MPI-INF-3DHP's univ_annot3 (schema.py)


def example(item, dataset):
  """The stored example of a Person; SkipExample for a Filtered item or a failed filter."""
  if isinstance(item, Filtered):
    raise SkipExample(item.reason)
  image = person_crop.read_image(item.image_path)
  if item.min_in_image:
    height, width = image.shape[:2]
    points = item.keypoints2d[item.keypoints2d[:, 2] > 0, :2]
    inside = np.all((points >= 0) & (points < [width, height]), axis=1)
    if inside.sum() < item.min_in_image:
      raise SkipExample(f"fewer than {item.min_in_image} joints inside the image")
  if item.box is not None:
    center, scale = item.box[:2], item.box[2]
  else:
    center, scale = person_scale.RULES[item.rule](item.keypoints2d)
  return person_crop.person_example(
      image, item.keypoints2d, dataset, item.image_id, keypoints3d=item.keypoints3d,
      pose=item.pose, shape=item.shape, intrinsics=item.intrinsics, center=center, scale=scale,
      root_relative=item.root_relative, universal=item.universal)


def box_from_corners(low, high):
  """HMR's crop for a person known only by a tight box: its centre, and the box diagonal
  scaled to person_scale.DIAGONAL."""
  center, diagonal = person_scale.box(np.array([low, high], np.float64))
  if not diagonal > 0:
    raise SkipExample("empty bounding box")
  return (float(center[0]), float(center[1]), person_scale.DIAGONAL / diagonal)


def is_root_relative(keypoints3d):
  """Whether [14, 3] LSP joints (metres) were moved to their root rather than left in the
  camera frame: their hips lie within ROOT_RELATIVE_DISTANCE of the origin."""
  return bool(np.linalg.norm(keypoints3d[_HIPS].mean(axis=0)) < ROOT_RELATIVE_DISTANCE)
