"""Body poses for the synthetic world: sampled within joint limits, or drawn from mocap shards.

SMPL's canonical frame is y up, z forward (the way the body faces), x towards the body's left.
Every joint's local axes start aligned with it in the rest (T) pose, so a joint's rotation reads
as three angles about those axes: x bends in the sagittal plane (hip and knee flexion, bowing),
y twists about the vertical (and swings the horizontal arms forward or back), z bends sideways
(abducts a leg, raises or lowers an arm). A joint's rotation is R_z · R_y · R_x (scipy's
extrinsic "xyz").

The root is placed separately: `camera_root` turns the canonical frame into the camera frame
(OpenCV: y down, z away from the camera) with a random heading, so the stored pose is the one
rendered.
"""

import numpy as np
from scipy.spatial import transform
import tensorflow as tf

from hmr_tf import joints
from hmr_tf.data import schema
from hmr_tf.data import shards

# Plausible ranges in degrees for the left and the central joints, and a relaxed standing pose
# inside them (arms down, elbows a little bent). Sources: textbook active ranges of motion,
# narrowed where SMPL spreads one anatomical motion over several joints (three spine joints,
# neck and head). The right side mirrors the left (see _mirrored).
#   joint            x (flex)      y (twist)     z (side)      neutral (x, y, z)
_LEFT_AND_CENTRAL = {
    "left_hip":      ((-110, 25), (-35, 35), (-20, 45), (0, 0, 3)),    # flexion is -x
    "spine1":        ((-15, 30), (-15, 15), (-15, 15), (0, 0, 0)),     # bowing forward is +x
    "left_knee":     ((0, 140), (-10, 10), (0, 0), (0, 0, 0)),         # flexes only
    "spine2":        ((-10, 25), (-15, 15), (-10, 10), (0, 0, 0)),
    "left_ankle":    ((-20, 45), (-15, 15), (-15, 15), (0, 0, 0)),     # toes down is +x
    "spine3":        ((-10, 25), (-15, 15), (-10, 10), (0, 0, 0)),
    "left_foot":     ((-20, 30), (0, 0), (0, 0), (0, 0, 0)),           # the toes
    "smpl_neck":     ((-30, 40), (-35, 35), (-20, 20), (0, 0, 0)),
    "left_collar":   ((-10, 10), (-15, 15), (-10, 20), (0, 0, 0)),     # shrugging is +z
    "head":          ((-30, 35), (-40, 40), (-20, 20), (0, 0, 0)),
    "left_shoulder": ((-45, 45), (-100, 40), (-85, 90), (0, 0, -75)),  # down -z, forward -y
    "left_elbow":    ((-20, 20), (-145, 0), (0, 0), (0, -15, 0)),      # flexes only, -y
    "left_wrist":    ((-30, 30), (-20, 20), (-60, 60), (0, 0, 0)),
    "left_hand":     ((-10, 10), (-10, 10), (-20, 20), (0, 0, 0)),
}


def _mirrored(limits):
  """The right joint's ranges: mirroring across the body's x = 0 plane keeps rotations about x
  and negates those about y and z."""
  (x, y, z, (nx, ny, nz)) = limits
  return x, (-y[1], -y[0]), (-z[1], -z[0]), (nx, -ny, -nz)


def _limit_table():
  """[23, 3, 2] radian ranges and [23, 3] neutral angles, in SMPL_24 order without the root."""
  table = dict(_LEFT_AND_CENTRAL)
  table.update({name.replace("left_", "right_"): _mirrored(limits)
                for name, limits in _LEFT_AND_CENTRAL.items() if name.startswith("left_")})
  names = joints.SMPL_24.names[1:]
  missing = set(names) - set(table)
  if missing:
    raise ValueError(f"joint limit table lacks {sorted(missing)}")
  ranges = np.radians([table[n][:3] for n in names])
  neutral = np.radians([table[n][3] for n in names])
  return ranges, neutral


JOINT_RANGES, NEUTRAL = _limit_table()

# The camera's view of an upright body: up to ±15° from level (looking down or up at it), and
# the body leaning up to ±6° forward or sideways.
_ELEVATION = np.radians(15)
_LEAN = np.radians(6)


def sample_body_pose(rng):
  """[69] axis-angle for joints 1..23, inside JOINT_RANGES.

  Each angle is neutral + activity · (uniform draw in its range − neutral), with one activity
  in [0, 1] per body: calm and wild poses both occur, and every angle stays in range.
  """
  low, high = JOINT_RANGES[..., 0], JOINT_RANGES[..., 1]
  angles = NEUTRAL + rng.uniform() * (rng.uniform(low, high) - NEUTRAL)  # [23, 3]
  return transform.Rotation.from_euler("xyz", angles).as_rotvec().reshape(-1)


def canonical_lean(rng):
  """[3] axis-angle: an upright body leaning up to ±6° forward or sideways (SMPL's frame)."""
  return transform.Rotation.from_euler("xz", rng.uniform(-_LEAN, _LEAN, size=2)).as_rotvec()


def camera_root(rng, canonical_root=None):
  """[3] axis-angle root rotation in the camera frame for an upright body, any heading.

  R = R_x(π + elevation) · R_y(heading) · R_canonical: R_x(π) turns SMPL's y-up frame to the
  camera's y-down one with the body facing the camera at heading 0.

  Args:
    rng: numpy Generator.
    canonical_root: [3] the body's own root rotation in SMPL's canonical frame (a mocap
      frame's), or None for a small random lean.
  """
  heading = rng.uniform(-np.pi, np.pi)
  elevation = rng.uniform(-_ELEVATION, _ELEVATION)
  if canonical_root is None:
    canonical = transform.Rotation.from_rotvec(canonical_lean(rng))
  else:
    canonical = transform.Rotation.from_rotvec(canonical_root)
  view = transform.Rotation.from_euler("yx", [heading, np.pi + elevation])  # R_x · R_y
  return (view * canonical).as_rotvec()


def sample_pose(rng, mocap_poses=None):
  """[72] SMPL pose with its root in the camera frame: from `mocap_poses` ([N, 72] in SMPL's
  canonical frame, one drawn at random) when given, else within the joint limits."""
  if mocap_poses is None:
    body = sample_body_pose(rng)
    root = camera_root(rng)
  else:
    frame = np.asarray(mocap_poses[rng.integers(len(mocap_poses))], np.float64)
    body = frame[3:]
    root = camera_root(rng, frame[:3])
  return np.concatenate([root, body])


def load_mocap(directory, split="train"):
  """{"pose": [N, 72], "shape": [N, 10]} float32 of a mocap shard directory
  (hmr_tf.datasets.mocap's output).

  Raises FileNotFoundError when the split has no finished shards, ValueError when it is empty.
  """
  files = shards.shard_files(directory, split)
  batches = list(tf.data.TFRecordDataset(files).batch(4096).map(schema.parse_mocap))
  if not batches:
    raise ValueError(f"{directory}: the '{split}' mocap shards hold no poses")
  return {key: np.concatenate([batch[key].numpy() for batch in batches])
          for key in ("pose", "shape")}


def load_mocap_poses(directory, split="train"):
  """[N, 72] float32 poses of a mocap shard directory (see load_mocap)."""
  return load_mocap(directory, split)["pose"]
