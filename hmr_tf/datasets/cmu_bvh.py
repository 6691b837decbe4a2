"""CMU motion capture in cgspeed's BVH conversions -> SMPL poses (retargeting).

Each SMPL joint takes the global rotation of the CMU joint that moves the same body segment
(the thigh, the forearm, ...). Where CMU puts two joints at one place (Neck/Neck1 or
lowerneck/Neck; the twist-only "wrist" joint and the hand after it), the later one is taken, so
its global rotation includes both. With G the CMU global rotations (the identity in the BVH
rest pose, see bvh.py), SMPL's global rotations are S_j = G_cmu(j) · A_j, and its local ones
S_parent(j)ᵀ · S_j.

A_j, the rest alignment, turns SMPL's T-pose segment into the posture the BVH rest pose has.
The two rest poses differ on the limbs: CMU's stands with the legs spread about 20° and, in the
3ds Max-friendly release, the arms hanging down, while SMPL's T-pose has near-vertical legs and
horizontal arms. Each limb (leg, clavicle, arm) turns as a whole by the smallest rotation that
takes SMPL's rest direction of its first segment (thigh, clavicle, upper arm) to the BVH's, so
a straight CMU knee or elbow stays a zero rotation in SMPL. The trunk, neck and head are upright
in both rest poses, and their joints sit at different landmarks in the two skeletons (SMPL's
head joint is well in front of its neck joint), so A_j = I there.

SMPL's two hand joints are set to zero (CMU's finger channels are rough, and AMASS has no SMPL
hand rotations either). The BVH files are y-up like SMPL; the root keeps the file's heading.
"""

import numpy as np
from scipy.spatial.transform import Rotation

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.datasets import bvh

_SIDES = ("left", "right")


def _sided(limbs):
  """{"{s}_hip": "{S}UpLeg", ...} for both sides: {s} left/right, {S} Left/Right, {c} l/r."""
  return {smpl.format(s=s): cmu.format(S=s.capitalize(), c=s[0])
          for s in _SIDES for smpl, cmu in limbs.items()}


# SMPL joint -> CMU joint, for the two cgspeed releases of the CMU database.
NAMINGS = {
    # cmuconvert-mb2 (MotionBuilder-friendly), arms in a T-pose at rest.
    "cgspeed MotionBuilder-friendly": {
        "pelvis": "Hips", "spine1": "LowerBack", "spine2": "Spine", "spine3": "Spine1",
        "smpl_neck": "Neck1", "head": "Head", **_sided({
            "{s}_hip": "{S}UpLeg", "{s}_knee": "{S}Leg", "{s}_ankle": "{S}Foot",
            "{s}_foot": "{S}ToeBase", "{s}_collar": "{S}Shoulder", "{s}_shoulder": "{S}Arm",
            "{s}_elbow": "{S}ForeArm", "{s}_wrist": "{S}FingerBase"})},
    # cmuconvert-max (3ds Max-friendly, Biped names), arms hanging down at rest.
    "cgspeed 3ds Max-friendly": {
        "pelvis": "Hips", "spine1": "lowerback", "spine2": "Chest", "spine3": "Chest2",
        "smpl_neck": "Neck", "head": "Head", **_sided({
            "{s}_hip": "{S}Hip", "{s}_knee": "{S}Knee", "{s}_ankle": "{S}Ankle",
            "{s}_foot": "{S}Toe", "{s}_collar": "{S}Collar", "{s}_shoulder": "{S}Shoulder",
            "{s}_elbow": "{S}Elbow", "{s}_wrist": "{c}hand"})},
}

# Each limb: its SMPL joints, and the segment (joint, next joint) whose rest directions align it.
_LIMBS = tuple((tuple(f"{s}_{j}" for j in limb), (f"{s}_{a}", f"{s}_{b}")) for s in _SIDES
               for limb, (a, b) in ((("hip", "knee", "ankle", "foot"), ("hip", "knee")),
                                    (("collar",), ("collar", "shoulder")),
                                    (("shoulder", "elbow", "wrist"), ("shoulder", "elbow"))))

# SMPL's rest joints at the start of the limbs (metres; y up, facing +z): those of the neutral
# SMPL-H body as published in public retargeting code. Only segment directions are used.
SMPL_REST_JOINTS = {
    "left_hip": (0.068, -0.315, 0.021), "right_hip": (-0.069, -0.314, 0.024),
    "left_knee": (0.102, -0.690, 0.017), "right_knee": (-0.108, -0.696, 0.015),
    "left_collar": (0.081, 0.195, -0.006), "right_collar": (-0.079, 0.193, -0.011),
    "left_shoulder": (0.172, 0.226, -0.015), "right_shoulder": (-0.175, 0.225, -0.020),
    "left_elbow": (0.432, 0.213, -0.042), "right_elbow": (-0.429, 0.212, -0.041),
}
_BODY_JOINTS = joints.SMPL_24.names[:22]  # all but SMPL's two hand joints


def naming(skeleton, path) -> dict:
  """The NAMINGS entry whose joints the skeleton has; BadInput naming what is missing."""
  missing = {name: sorted(set(mapping.values()) - set(skeleton.names))
             for name, mapping in NAMINGS.items()}
  for name, lacking in missing.items():
    if not lacking:
      return NAMINGS[name]
  closest = min(missing, key=lambda n: len(missing[n]))
  raise checks.BadInput(f"{path}: HIERARCHY is not a CMU skeleton known here; the closest, the "
                        f"{closest} naming, needs joints {missing[closest]}")


def _smallest_rotation(source, target) -> np.ndarray:
  """[3, 3] the rotation by the smallest angle that turns direction `source` into `target`."""
  source = np.asarray(source, np.float64) / np.linalg.norm(source)
  target = np.asarray(target, np.float64) / np.linalg.norm(target)
  axis = np.cross(source, target)
  angle = np.arctan2(np.linalg.norm(axis), np.dot(source, target))
  if np.linalg.norm(axis) < 1e-9:
    if angle < 1.0:
      return np.eye(3)
    # Opposite directions: half a turn about any axis perpendicular to them.
    axis = np.cross(source, np.eye(3)[np.argmin(np.abs(source))])
  return Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle).as_matrix()


def rest_alignment(skeleton, mapping) -> np.ndarray:
  """[22, 3, 3] A_j for SMPL's body joints (see the module docstring)."""
  rest = bvh.rest_positions(skeleton)
  alignment = np.tile(np.eye(3), (len(_BODY_JOINTS), 1, 1))
  for limb, (start, end) in _LIMBS:
    smpl_direction = np.subtract(SMPL_REST_JOINTS[end], SMPL_REST_JOINTS[start])
    cmu_direction = rest[skeleton.index(mapping[end])] - rest[skeleton.index(mapping[start])]
    alignment[joints.SMPL_24.indices(limb)] = _smallest_rotation(smpl_direction, cmu_direction)
  return alignment


def smpl_poses(motion, path) -> np.ndarray:
  """[F, 72] SMPL axis-angle poses (angles in [0, π]) for every frame of a CMU BVH motion."""
  mapping = naming(motion.skeleton, path)
  cmu = [motion.skeleton.index(mapping[name]) for name in _BODY_JOINTS]
  smpl_global = bvh.global_rotations(motion)[:, cmu] @ rest_alignment(motion.skeleton, mapping)
  local = smpl_global.copy()
  for j, parent in enumerate(joints.SMPL_PARENTS[:len(_BODY_JOINTS)]):
    if parent >= 0:
      local[:, j] = np.swapaxes(smpl_global[:, parent], -1, -2) @ smpl_global[:, j]
  num_frames = len(motion.values)
  pose = np.zeros((num_frames, len(joints.SMPL_24), 3))
  pose[:, :len(_BODY_JOINTS)] = Rotation.from_matrix(local.reshape(-1, 3, 3)).as_rotvec().reshape(
      num_frames, len(_BODY_JOINTS), 3)
  return pose.reshape(num_frames, -1)
