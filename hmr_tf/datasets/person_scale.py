"""How big the original stores a person: each of HMR's converters' scale rules, by name.

HMR's converters (akanazawa/hmr src/datasets/*_to_tfrecords.py) rescale each source image so
that the person has a set size, and centre the stored crop on the box of the person's labelled
keypoints. The size comes from the keypoints' box diagonal where an ankle is labelled, and each
converter has its own fallback for people whose legs are not:

  diagonal      mpi_inf_3dhp_to_tfrecords.py: the box diagonal is 150 px, legs or not.
  mpii          mpii_to_tfrecords.py: an ankle labelled, the diagonal rule; else head top to
                hip is 75 px (mean over the sides whose hip is labelled); else shoulder to hip
                on the same side is 56 px (mean over the sides); else the person is dropped
                ("too close").
  coco          coco_to_tfrecords.py: an ankle labelled, the diagonal rule; else shoulder to
                hip on the same side is 75 px (mean over the sides that have both); else, if a
                body point other than the face and shoulders is labelled, the diagonal is 50 px;
                else the person is dropped (face only).
  as_released   lsp_to_tfrecords.py: LSP and LSP-extended are stored as released (their
                authors scaled each person to about 150 px), scale 1.

Each rule takes cocoplus keypoints [19, 3] (x, y, labelled 0/1) in source pixels and returns
the centre [2] (source pixels: the middle of the labelled keypoints' box) and the scale
(stored pixels per source pixel); a person the rule drops raises shards.SkipExample.
"""

import numpy as np

from hmr_tf import joints
from hmr_tf.data import schema
from hmr_tf.data.shards import SkipExample

DIAGONAL = float(schema.PERSON_SIZE)  # 150 px: the labelled keypoints' box diagonal
MPII_HEAD_TO_HIP = DIAGONAL / 2  # 75 px
MPII_SHOULDER_TO_HIP = 56.0  # px
COCO_SHOULDER_TO_HIP = DIAGONAL / 2  # 75 px
COCO_BODY_DIAGONAL = DIAGONAL / 3  # 50 px: the diagonal of a person with no torso labelled

_NAMES = joints.COCOPLUS_19
_ANKLES = _NAMES.indices(["right_ankle", "left_ankle"])
_SIDES = ("right", "left")
# HMR's coco body_inds: the body points beyond the face, neck and shoulders.
_COCO_BODY = _NAMES.indices([f"{side}_{part}" for side in _SIDES
                             for part in ("ankle", "knee", "hip", "wrist", "elbow")])


def _labelled(keypoints):
  labelled = keypoints[:, 2] > 0
  if not labelled.any():
    raise SkipExample("no keypoints labelled")
  return labelled


def box(points):
  """Centre [2] and diagonal length of the box of points [K, 2] (K > 0)."""
  low, high = points.min(axis=0), points.max(axis=0)
  return (low + high) / 2, float(np.linalg.norm(high - low))


def _scale(target, length):
  if not length > 0:
    raise SkipExample("keypoints span no area")
  return target / length


def _mean_length(keypoints, labelled, pairs):
  """Mean distance between the pairs of joint names that are both labelled, or None."""
  lengths = [np.linalg.norm(keypoints[a, :2] - keypoints[b, :2])
             for a, b in (_NAMES.indices(pair) for pair in pairs) if labelled[a] and labelled[b]]
  return float(np.mean(lengths)) if lengths else None


def diagonal(keypoints):
  """The labelled keypoints' box diagonal is DIAGONAL px."""
  labelled = _labelled(keypoints)
  center, length = box(keypoints[labelled, :2])
  return center, _scale(DIAGONAL, length)


def mpii(keypoints):
  """mpii_to_tfrecords.py's rule (module docstring)."""
  labelled = _labelled(keypoints)
  center, length = box(keypoints[labelled, :2])
  if labelled[_ANKLES].any():
    return center, _scale(DIAGONAL, length)
  head_to_hip = _mean_length(keypoints, labelled, [("head_top", f"{s}_hip") for s in _SIDES])
  if head_to_hip is not None:
    return center, _scale(MPII_HEAD_TO_HIP, head_to_hip)
  shoulder_to_hip = _mean_length(keypoints, labelled,
                                 [(f"{s}_shoulder", f"{s}_hip") for s in _SIDES])
  if shoulder_to_hip is not None:
    return center, _scale(MPII_SHOULDER_TO_HIP, shoulder_to_hip)
  raise SkipExample("no ankle, and no head top or shoulder with a hip (HMR's MPII rule)")


def coco(keypoints):
  """coco_to_tfrecords.py's rule (module docstring)."""
  labelled = _labelled(keypoints)
  center, length = box(keypoints[labelled, :2])
  if labelled[_ANKLES].any():
    return center, _scale(DIAGONAL, length)
  shoulder_to_hip = _mean_length(keypoints, labelled,
                                 [(f"{s}_shoulder", f"{s}_hip") for s in _SIDES])
  if shoulder_to_hip is not None:
    return center, _scale(COCO_SHOULDER_TO_HIP, shoulder_to_hip)
  if labelled[_COCO_BODY].any():
    return center, _scale(COCO_BODY_DIAGONAL, length)
  raise SkipExample("only face and shoulders labelled")


def as_released(keypoints):
  """Scale 1: the dataset's own images already hold the person at HMR's size."""
  center, _ = box(keypoints[_labelled(keypoints), :2])
  return center, 1.0


RULES = {"diagonal": diagonal, "mpii": mpii, "coco": coco, "as_released": as_released}
