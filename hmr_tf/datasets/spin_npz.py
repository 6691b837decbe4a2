"""SPIN's preprocessed .npz (also written by mmpose): one row per person.

The form in which Human3.6M and MPI-INF-3DHP are most often shared:

  imgname [N]          image path, relative to the dataset root
  center [N, 2]        box centre, source pixels
  scale [N]            box side / 200 px: 1.2 × the keypoints' longer side (SPIN's 3DHP and
                       3DPW, mmpose's files), 0.9 × the segmentation mask's (SPIN's Human3.6M)
  part [N, J, 3]       2D keypoints (x, y, visibility), source pixels
  S [N, J, 4]          3D joints (x, y, z) in metres and a confidence: moved to the root joint
                       (SPIN's files: root at the origin) or in the camera frame (mmpose's)
  pose [N, 72], shape [N, 10]   optional SMPL parameters, camera frame
  has_smpl [N]         optional; without it a row has SMPL where its pose is not all zero

J is 24 (SPIN_24) or 17 (the dataset's own set, which the caller names). Every field but
imgname, center and scale is optional.

A row with 2D keypoints is cropped from them by HMR's diagonal rule (person_scale.py), whatever
its scale says, so a dataset gets one person size in whichever form it came; only a row
without them (SPIN's Human3.6M test files, 3DPW) is cropped from center and scale. Rows whose
3D joints have their hips at the origin are stored as root-relative (schema.py).
"""

import glob
import os
import re

import numpy as np

from hmr_tf import array_files
from hmr_tf import checks
from hmr_tf import joints
from hmr_tf import theta
from hmr_tf.datasets import person_item
from hmr_tf.datasets import person_scale

SPIN_BOX_MARGIN = 1.2  # SPIN's box side over the keypoints' longer side (its scaleFactor)
MAX_METRES = 50.0  # |coordinate| above this in 'S' means the file is in millimetres
# Bones that every body has on both sides: a file whose joints are in another order than its
# joint set says gives lengths out of BONE_LENGTH, or left and right sides that disagree.
_BONES = (("hip", "knee"), ("knee", "ankle"), ("shoulder", "elbow"), ("elbow", "wrist"))
BONE_LENGTH = (0.15, 0.7)  # m, a median bone's length
MAX_SIDE_RATIO = 1.4  # between the median left and right lengths of a bone


def npz_files(input_path):
  """The .npz files named by `input_path` (a file or a directory); FileNotFoundError if none."""
  if os.path.isfile(input_path):
    return [input_path]
  files = sorted(glob.glob(os.path.join(input_path, "*.npz")))
  if not files:
    raise FileNotFoundError(f"no .npz annotation files in {input_path}")
  return files


def subject(path, imgname):
  """The subject (S1, TS3, …) that an imgname names; BadInput naming the file otherwise."""
  match = re.search(r"(?:^|[/_])(T?S\d+)(?=[/_])", imgname)
  if not match:
    raise checks.BadInput(f"{path}: field 'imgname' holds '{imgname}', which names no subject "
                          "(S1…)")
  return match.group(1)


def _field(data, path, key, shape, required=True):
  if key not in data:
    if required:
      raise checks.BadInput(f"{path}: field '{key}' is missing")
    return None
  return checks.array(data[key], shape, key, path)


def read(path, joint_sets):
  """The checked arrays of one .npz; joint_sets maps J (17 or 24) to the JointSet of 'part'/'S'.

  Returns:
    dict with path, imgname [N] (str), center, scale, and where present part, S, pose, shape,
    has_smpl, and 'joint_set'.
  """
  if not os.path.isfile(path):
    raise FileNotFoundError(f"annotation file not found: {path}")
  data = array_files.load_npz(path)
  if "imgname" not in data:
    raise checks.BadInput(f"{path}: field 'imgname' is missing")
  imgname = data["imgname"]
  if imgname.ndim != 1 or imgname.dtype.kind not in "US":
    raise checks.BadInput(f"{path}: expected imgname of shape [N] holding text, found "
                          f"{list(imgname.shape)} {imgname.dtype}")
  rows = len(imgname)
  out = {"path": path, "imgname": [str(n) for n in imgname],
         "center": _field(data, path, "center", (rows, 2)),
         "scale": _field(data, path, "scale", (rows,)),
         "part": _field(data, path, "part", (rows, "J", 3), required=False),
         "S": _field(data, path, "S", (rows, "J", 4), required=False),
         "pose": _field(data, path, "pose", (rows, theta.NUM_POSE), required=False),
         "shape": _field(data, path, "shape", (rows, theta.NUM_SHAPE), required=False),
         "has_smpl": _field(data, path, "has_smpl", (rows,), required=False)}
  counts = {out[k].shape[1] for k in ("part", "S") if out[k] is not None}
  if len(counts) > 1 or not counts <= set(joint_sets):
    raise checks.BadInput(f"{path}: fields 'part'/'S' hold {sorted(counts)} joints; expected "
                          f"one of {sorted(joint_sets)}")
  out["joint_set"] = joint_sets[counts.pop()] if counts else None
  if (out["pose"] is None) != (out["shape"] is None):
    raise checks.BadInput(f"{path}: fields 'pose' and 'shape' come together; found only one")
  if out["S"] is not None:
    known = out["S"][..., 3] > 0
    largest = np.abs(out["S"][..., :3][known]).max(initial=0.0)
    if largest > MAX_METRES:
      raise checks.BadInput(f"{path}: field 'S' reaches {largest:.0f}: expected metres, not "
                            "millimetres")
    check_layout(out["S"], out["joint_set"], path)
  return out


def _known(S):
  """[N, J] where 'S' [N, J, 4] has a joint: its confidence is positive or its coordinates are
  not all zero (mmpose zeroes the confidence of joints outside the image but keeps them, SPIN
  writes zeros for joints it lacks)."""
  return (S[..., 3] > 0) | np.any(S[..., :3] != 0, axis=-1)


def _median_distance(S, known, a, b):
  """Median distance between joints a and b over the rows that have both, or None."""
  rows = known[:, a] & known[:, b]
  if not rows.any():
    return None
  return float(np.median(np.linalg.norm(S[rows, a, :3] - S[rows, b, :3], axis=-1)))


def check_layout(S, joint_set, path):
  """BadInput unless 'S' [N, J, 4] (metres) holds bodies in `joint_set`'s order: each limb
  bone's median length is within BONE_LENGTH and the same on both sides, and the pelvis, where
  the set has one, lies between the hips. Joints read in another dataset's order fail this."""
  known = _known(S)
  where = f"{path}: field 'S' does not hold {joint_set.name} joints (another dataset's file?)"
  for upper, lower in _BONES:
    lengths = [_median_distance(S, known, *joint_set.indices([f"{side}_{upper}",
                                                              f"{side}_{lower}"]))
               for side in ("left", "right")]
    if None in lengths:
      continue
    low, high = BONE_LENGTH
    if not (low <= min(lengths) and max(lengths) <= high
            and max(lengths) <= MAX_SIDE_RATIO * min(lengths)):
      raise checks.BadInput(
          f"{where}: its {upper}-{lower} bones measure {lengths[0]:.2f} m on the left and "
          f"{lengths[1]:.2f} m on the right; expected {low}-{high} m, within "
          f"{MAX_SIDE_RATIO}× of each other")
  if "pelvis" in joint_set.names:
    pelvis, left, right = joint_set.indices(["pelvis", "left_hip", "right_hip"])
    rows = known[:, pelvis] & known[:, left] & known[:, right]
    if rows.any():
      hips = S[rows][:, [left, right], :3]
      off = np.median(np.linalg.norm(S[rows, pelvis, :3] - hips.mean(axis=1), axis=-1))
      width = np.median(np.linalg.norm(hips[:, 0] - hips[:, 1], axis=-1))
      if not off < width / 2:
        raise checks.BadInput(f"{where}: its pelvis lies {off:.2f} m from the middle of its "
                              f"hips, which are {width:.2f} m apart")


def _keypoints3d(S, source):
  """[14, 3] LSP joints from one row of 'S', or None where one is unknown (_known).

  Human3.6M has no head-top marker: its "head" joint is the point the H3.6M protocols score as
  the LSP head top (J_regressor_h36m row 10, SPIN's H36M_TO_J14), so it stands in, in 3D only.
  """
  known = np.concatenate([S[:, :3], _known(S)[:, None]], 1)
  lsp = joints.convert(known, source, joints.LSP_14)
  top = joints.LSP_14.index("head_top")
  if not lsp[top, 3] and "head" in source.names:
    lsp[top] = known[source.index("head")]
  return lsp[:, :3] if np.all(lsp[:, 3] > 0) else None


def persons(data, dataset_root, indices, image_path=None, box_margin=SPIN_BOX_MARGIN,
            universal=False):
  """Person items for the chosen rows of read()'s output.

  Args:
    data: read()'s output.
    dataset_root: the directory that imgname is relative to.
    indices: the rows to take.
    image_path: optional function (dataset_root, imgname) -> path, for layouts where imgname
      is not the path relative to the root.
    box_margin: the file's box side over the person's size, for rows without 2D keypoints.
    universal: the file's root-relative 3D joints are MPI-INF-3DHP's univ_annot3 (SPIN's
      test file).
  """
  source = data["joint_set"]
  items = []
  for i in indices:
    name = data["imgname"][i]
    keypoints2d = np.zeros((len(joints.COCOPLUS_19), 3))
    labelled = np.zeros(0, bool)
    if data["part"] is not None:
      labelled = data["part"][i, :, 2] > 0
      keypoints2d = joints.convert(data["part"][i], source, joints.COCOPLUS_19)
      keypoints2d[:, 2] = keypoints2d[:, 2] > 0
      keypoints2d[keypoints2d[:, 2] == 0, :2] = 0
    keypoints3d = _keypoints3d(data["S"][i], source) if data["S"] is not None else None
    has_smpl = data["pose"] is not None and (
        data["has_smpl"][i] > 0 if data["has_smpl"] is not None else np.any(data["pose"][i]))
    root_relative = keypoints3d is not None and person_item.is_root_relative(keypoints3d)
    items.append(person_item.Person(
        image_path=(image_path or os.path.join)(dataset_root, name), image_id=name,
        keypoints2d=keypoints2d.astype(np.float32),
        keypoints3d=None if keypoints3d is None else keypoints3d.astype(np.float32),
        pose=data["pose"][i] if has_smpl else None, shape=data["shape"][i] if has_smpl else None,
        box=_box(data, i, labelled, box_margin), root_relative=root_relative,
        universal=universal and root_relative))
  return items


def _box(data, row, labelled, box_margin):
  """(center x, center y, scale) of a row: HMR's diagonal rule on all its labelled keypoints
  (the file's own joints: Human3.6M's head among them, which cocoplus lacks), or the file's
  box where they span no area."""
  if labelled.any():
    center, diagonal = person_scale.box(data["part"][row, labelled, :2])
    if diagonal > 0:
      return (*center, person_scale.DIAGONAL / diagonal)
  side = data["scale"][row] * 200 / box_margin
  if not 0 < side < np.inf:
    raise checks.BadInput(f"{data['path']}: field 'scale' is {data['scale'][row]} in row {row}; "
                          "expected > 0")
  return (*data["center"][row], person_scale.DIAGONAL / side)
