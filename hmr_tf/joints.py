"""The one table of joint sets, and the index maps and flip permutations derived from it.

Every joint set is an ordered tuple of names from one shared vocabulary, so maps between sets
are computed by name and no other file spells a joint index. Where datasets name the same
anatomical point differently, the vocabulary picks one name and the comment says why.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class JointSet:
  """An ordered set of named joints."""

  name: str
  names: tuple

  def __len__(self):
    return len(self.names)

  def index(self, joint_name: str) -> int:
    return self.names.index(joint_name)

  def indices(self, joint_names) -> list:
    return [self.names.index(n) for n in joint_names]


SMPL_24 = JointSet("smpl_24", (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "smpl_neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand"))
# SMPL's neck joint sits at the base of the skull, well above the LSP "neck" (between the
# shoulders), so it gets its own name and never stands in for it.

# The kinematic tree of SMPL: parent of each SMPL_24 joint, -1 for the root.
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

LSP_14 = JointSet("lsp_14", (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "neck", "head_top"))

# HMR's keypoints: LSP-14 plus COCO's first five points, the face, in COCO's order (paper
# footnote 1). The original's code fixes the order of the ears, left first, in three places:
# coco_to_tfrecords.py (convert_coco2universal takes COCO rows 0-4, the joint_names list) and
# renderer.py's draw_skeleton docstring. (A comment in hmr issue #18 lists them right first.)
# The original's TFRecords (image/x, image/y, then image/face_pts) and russoale/hmr2.0's
# keypoints_2d store the same order.
COCOPLUS_19 = JointSet("cocoplus_19", LSP_14.names + (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear"))

COCO_17 = JointSet("coco_17", (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle"))

# OpenPose's 18-keypoint COCO model (3DPW's poses2d). Its neck is the midpoint of the shoulders,
# which HMR's COCO converter does not take for the LSP neck either, so it keeps its own name.
OPENPOSE_18 = JointSet("openpose_18", (
    "nose", "openpose_neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
    "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip",
    "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear"))

# MPII's "upper neck" is the point HMR's converter uses as the LSP neck; "thorax" is lower.
MPII_16 = JointSet("mpii_16", (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "pelvis",
    "thorax", "neck", "head_top", "right_wrist", "right_elbow", "right_shoulder",
    "left_shoulder", "left_elbow", "left_wrist"))

# Human3.6M's 17 joints in the row order of J_regressor_h36m.npy, the regressor every
# HMR-family evaluation applies to the mesh. Its legs come left first, unlike the raw dataset's
# 17-joint subset: SPIN's H36M_TO_J14 = [6, 5, 4, 1, 2, 3, 16, 15, 14, 11, 12, 13, 8, 10] maps
# row 1 to the left hip and row 6 to the right ankle. Row 8 ("thorax" in the dataset) is the
# LSP neck in that map, and row 9 ("neck/nose") is nearer the nose, so the names follow LSP.
H36M_17 = JointSet("h36m_17", (
    "pelvis", "left_hip", "left_knee", "left_ankle", "right_hip", "right_knee", "right_ankle",
    "spine", "neck", "nose", "head_top", "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist"))

# The same 17 points in the raw dataset's order (legs right first), as mmpose's body3d .npz
# stores them. Named as SPIN_24 names them, since SPIN's npz carries these rows: H36M_17's "nose"
# and "head_top" are SPIN's "jaw" and "head" (neither is the face's nose or the LSP head top).
H36M_17_RAW = JointSet("h36m_17_raw", (
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "spine", "neck", "jaw", "head", "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist"))

# The 24 ground-truth joints of SPIN's preprocessed .npz files ('part' and 'S'), used by the
# widely shared Human3.6M, MPI-INF-3DHP and 3DPW npz releases.
SPIN_24 = JointSet("spin_24", LSP_14.names + (
    "pelvis", "thorax", "spine", "jaw", "head", "nose", "left_eye", "right_eye", "left_ear",
    "right_ear"))

# MPI-INF-3DHP's 28 training joints (annot.mat) and its 17 test joints (annot_data.mat).
MPI_INF_3DHP_28 = JointSet("mpi_inf_3dhp_28", (
    "spine3", "spine4", "spine2", "spine", "pelvis", "neck", "head", "head_top",
    "left_clavicle", "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_clavicle", "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot", "left_toe",
    "right_hip", "right_knee", "right_ankle", "right_foot", "right_toe"))
MPI_INF_3DHP_17 = JointSet("mpi_inf_3dhp_17", (
    "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
    "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip",
    "left_knee", "left_ankle", "pelvis", "spine", "head"))

JOINT_SETS = {s.name: s for s in (SMPL_24, LSP_14, COCOPLUS_19, COCO_17, OPENPOSE_18,
                                  MPII_16, H36M_17, H36M_17_RAW, SPIN_24,
                                  MPI_INF_3DHP_28, MPI_INF_3DHP_17)}


def index_map(source: JointSet, target: JointSet) -> np.ndarray:
  """For each target joint, its index in `source`, or -1 where `source` lacks it. [len(target)]"""
  return np.array([source.names.index(n) if n in source.names else -1 for n in target.names],
                  np.int32)


def convert(points, source: JointSet, target: JointSet, fill=0.0) -> np.ndarray:
  """Reorders [..., len(source), C] points into `target` order; missing joints get `fill`.

  With (x, y, visibility) keypoints, fill=0 marks the missing joints invisible.
  """
  points = np.asarray(points)
  if points.shape[-2] != len(source):
    raise ValueError(f"expected {len(source)} {source.name} joints on axis -2, "
                     f"found shape {points.shape}")
  mapping = index_map(source, target)
  out = np.take(points, np.maximum(mapping, 0), axis=-2)
  out[..., mapping < 0, :] = fill
  return out


def flip_permutation(joint_set: JointSet) -> np.ndarray:
  """Index of each joint's mirror image (left_* <-> right_*); central joints map to themselves."""
  def mirror(name):
    for a, b in (("left_", "right_"), ("right_", "left_")):
      if name.startswith(a):
        return b + name[len(a):]
    return name
  return np.array([joint_set.names.index(mirror(n)) for n in joint_set.names], np.int32)
