"""The items that the 3D converters list: one labelled person in one source image, or a drop.

`list_items` does the reading of annotation files and the dataset's own sampling, and returns
small picklable items; `make_examples` only reads the image and crops it (person_crop). Items
that the dataset's own rules drop (a still frame, an invalid frame) stay in the list as
`Filtered`, so that the conversion's summary counts them by reason.
"""

import dataclasses

import numpy as np

from hmr_tf.data.shards import SkipExample
from hmr_tf.datasets import person_crop


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
  keypoints3d: np.ndarray = None  # [14, 3] LSP, metres, camera frame
  pose: np.ndarray = None  # [72] SMPL axis-angle, camera frame
  shape: np.ndarray = None  # [10]
  intrinsics: tuple = None  # (fx, fy, cx, cy)
  box: tuple = None  # (center x, center y, scale): the crop, where keypoints cannot give it
  min_in_image: int = 0  # keep only if this many keypoints lie inside the image


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
  center, scale = (item.box[:2], item.box[2]) if item.box is not None else (None, None)
  return person_crop.person_example(
      image, item.keypoints2d, dataset, item.image_id, keypoints3d=item.keypoints3d,
      pose=item.pose, shape=item.shape, intrinsics=item.intrinsics, center=center, scale=scale)


def box_from_corners(low, high):
  """HMR's crop for a person known only by a tight box: its centre, and ~150 px diagonal."""
  low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
  diagonal = np.linalg.norm(high - low)
  if not diagonal > 0:
    raise SkipExample("empty bounding box")
  center = (low + high) / 2
  return (float(center[0]), float(center[1]), person_crop.TARGET_HEIGHT / diagonal)
