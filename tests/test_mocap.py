"""The mocap converter: AMASS npz, CMU BVH (parsed and retargeted onto SMPL), mosh records."""

import glob
import os
import pickle

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
import tensorflow as tf

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.datasets import bvh
from hmr_tf.datasets import cmu_bvh
from hmr_tf.datasets import mocap

_J = joints.SMPL_24.index
_Z_TO_Y_UP = Rotation.from_euler("x", -90, degrees=True)

# A human-proportioned rest skeleton in SMPL's layout (metres, y up, facing +z), independent
# of the converter's tables, for forward kinematics.
_REST = {
    "pelvis": (0, 0, 0), "left_hip": (0.08, -0.08, 0), "right_hip": (-0.08, -0.08, 0),
    "spine1": (0, 0.1, 0), "left_knee": (0.1, -0.47, 0), "right_knee": (-0.1, -0.47, 0),
    "spine2": (0, 0.23, 0), "left_ankle": (0.09, -0.87, -0.03),
    "right_ankle": (-0.09, -0.87, -0.03), "spine3": (0, 0.29, 0),
    "left_foot": (0.11, -0.93, 0.1), "right_foot": (-0.11, -0.93, 0.1),
    "smpl_neck": (0, 0.5, -0.02), "left_collar": (0.08, 0.41, 0),
    "right_collar": (-0.08, 0.41, 0), "head": (0, 0.57, 0.04), "left_shoulder": (0.17, 0.44, 0),
    "right_shoulder": (-0.17, 0.44, 0), "left_elbow": (0.43, 0.43, 0),
    "right_elbow": (-0.43, 0.43, 0), "left_wrist": (0.68, 0.43, 0),
    "right_wrist": (-0.68, 0.43, 0), "left_hand": (0.77, 0.43, 0), "right_hand": (-0.77, 0.43, 0)}
_REST_JOINTS = np.array([_REST[n] for n in joints.SMPL_24.names], np.float64)

# SMPL's neutral rest joints at the start of each limb (metres, y up, facing +z, 3 decimals),
# written here by hand from the published model, not read from the converter's table: the
# CMU fixtures below point their limbs this way, so a wrong table in cmu_bvh fails the tests.
_SMPL_LIMB_JOINTS = {
    "left_hip": (0.068, -0.315, 0.021), "right_hip": (-0.069, -0.314, 0.024),
    "left_knee": (0.102, -0.690, 0.017), "right_knee": (-0.108, -0.696, 0.015),
    "left_collar": (0.081, 0.195, -0.006), "right_collar": (-0.079, 0.193, -0.011),
    "left_shoulder": (0.172, 0.226, -0.015), "right_shoulder": (-0.175, 0.225, -0.020),
    "left_elbow": (0.432, 0.213, -0.042), "right_elbow": (-0.429, 0.212, -0.041)}


def _forward_kinematics(pose, rest=_REST_JOINTS):
  """Joint positions [F, 24, 3] and global rotations [F, 24, 3, 3] of SMPL poses [F, 72]."""
  local = Rotation.from_rotvec(pose.reshape(-1, 3)).as_matrix().reshape(len(pose), 24, 3, 3)
  rotations, positions = local.copy(), np.zeros((len(pose), 24, 3))
  for j, parent in enumerate(joints.SMPL_PARENTS):
    if parent >= 0:
      rotations[:, j] = rotations[:, parent] @ local[:, j]
      positions[:, j] = positions[:, parent] + rotations[:, parent] @ (rest[j] - rest[parent])
  return positions, rotations


def _unit(vectors):
  return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _angle_deg(a, b):
  return np.degrees(np.arccos(np.clip(np.sum(_unit(a) * _unit(b), -1), -1, 1)))


# ---------------------------------------------------------------- BVH fixtures


class _Skeleton:
  """A BVH skeleton given by rest positions: [(name, parent, position, channels)]."""

  def __init__(self, joints_):
    self.joints = joints_
    self.columns = {}  # name -> (first column, channels), in the file's depth-first order
    column = 0
    for name in self._depth_first(joints_[0][0]):
      channels = next(c for n, _, _, c in joints_ if n == name)
      self.columns[name] = (column, channels)
      column += len(channels.split()) if channels else 0
    self.num_channels = column

  def _depth_first(self, name):
    yield name
    for child, parent, _, _ in self.joints:
      if parent == name:
        yield from self._depth_first(child)

  def frames(self, rotations_per_frame):
    """[F, C] channel values posing each frame's {joint: Rotation} (others at rest)."""
    values = np.zeros((len(rotations_per_frame), self.num_channels))
    for f, rotations in enumerate(rotations_per_frame):
      for name, rotation in rotations.items():
        column, channels = self.columns[name]
        axes = [c[0] for c in channels.split() if c.endswith("rotation")]
        start = column + len(channels.split()) - 3
        values[f, start:start + 3] = rotation.as_euler("".join(axes), degrees=True)
    return values

  def write(self, path, values, frame_time=1 / 120):
    positions = {name: np.asarray(p, float) for name, _, p, _ in self.joints}

    def block(name, parent, depth):
      pad = "  " * depth
      offset = positions[name] - (positions[parent] if parent else 0)
      channels = self.columns[name][1]
      kind = "ROOT" if parent is None else ("End Site" if channels is None else "JOINT")
      lines = [f"{pad}{kind}{'' if channels is None else ' ' + name}", f"{pad}{{",
               f"{pad}  OFFSET {' '.join(f'{x:.6f}' for x in offset)}"]
      if channels is not None:
        lines.append(f"{pad}  CHANNELS {len(channels.split())} {channels}")
      for child, child_parent, _, _ in self.joints:
        if child_parent == name:
          lines += block(child, name, depth + 1)
      return lines + [f"{pad}}}"]

    root = self.joints[0][0]
    text = ["HIERARCHY"] + block(root, None, 0) + [
        "MOTION", f"Frames: {len(values)}", f"Frame Time: {frame_time:.7f}"]
    text += [" ".join(f"{v:.6f}" for v in row) for row in values]
    with open(path, "w", encoding="utf-8") as f:
      f.write("\n".join(text) + "\n")
    return path


_ZYX = "Zrotation Yrotation Xrotation"
_ROOT = "Xposition Yposition Zposition " + _ZYX


def _motionbuilder_skeleton():
  """cgspeed's MotionBuilder-friendly names in a T-pose whose limbs point like SMPL's."""
  smpl = _SMPL_LIMB_JOINTS
  spec = [("Hips", None, (0, 0, 0), _ROOT), ("LowerBack", "Hips", (0, 0, 0), _ZYX),
          ("Spine", "LowerBack", (0, 0.1, 0), _ZYX), ("Spine1", "Spine", (0, 0.2, 0), _ZYX),
          ("Neck", "Spine1", (0, 0.2, 0), _ZYX), ("Neck1", "Neck", (0, 0.3, 0), _ZYX),
          ("Head", "Neck1", (0, 0.4, 0), _ZYX), ("Head/end", "Head", (0, 0.5, 0), None)]
  for side in ("left", "right"):
    s, sign = side.capitalize(), 1 if side == "left" else -1
    hand = np.add(smpl[f"{side}_elbow"], (sign * 0.25, 0, 0))
    spec += [
        (f"{s[0]}HipJoint", "Hips", (0, 0, 0), _ZYX),
        (f"{s}UpLeg", f"{s[0]}HipJoint", smpl[f"{side}_hip"], _ZYX),
        (f"{s}Leg", f"{s}UpLeg", smpl[f"{side}_knee"], _ZYX),
        (f"{s}Foot", f"{s}Leg", np.add(smpl[f"{side}_knee"], (0, -0.4, 0)), _ZYX),
        (f"{s}ToeBase", f"{s}Foot", np.add(smpl[f"{side}_knee"], (0, -0.45, 0.12)), _ZYX),
        (f"{s}ToeBase/end", f"{s}ToeBase", np.add(smpl[f"{side}_knee"], (0, -0.45, 0.17)),
         None),
        (f"{s}Shoulder", "Spine1", smpl[f"{side}_collar"], _ZYX),
        (f"{s}Arm", f"{s}Shoulder", smpl[f"{side}_shoulder"], _ZYX),
        (f"{s}ForeArm", f"{s}Arm", smpl[f"{side}_elbow"], _ZYX),
        (f"{s}Hand", f"{s}ForeArm", hand, _ZYX),
        (f"{s}FingerBase", f"{s}Hand", hand, _ZYX),
        (f"{s}HandIndex1", f"{s}FingerBase", hand + (sign * 0.08, 0, 0), _ZYX),
        (f"{s}HandIndex1/end", f"{s}HandIndex1", hand + (sign * 0.12, 0, 0), None)]
  return _Skeleton(spec)


_LEG = np.array([np.sin(np.radians(20)), -np.cos(np.radians(20)), 0])  # spread 20° outwards


def _max_skeleton():
  """cgspeed's 3ds Max-friendly names in its rest pose: legs spread 20°, arms hanging down."""
  zxy = "Zrotation Xrotation Yrotation"
  spec = [("Hips", None, (0, 0, 0), _ROOT), ("lowerback", "Hips", (0, 0, 0), _ZYX),
          ("Chest", "lowerback", (0, 0.11, 0), _ZYX), ("Chest2", "Chest", (0, 0.22, 0), _ZYX),
          ("lowerneck", "Chest2", (0, 0.22, 0), _ZYX), ("Neck", "lowerneck", (0, 0.31, 0), _ZYX),
          ("Head", "Neck", (0, 0.4, 0), _ZYX), ("Head/end", "Head", (0, 0.49, 0), None)]
  for side in ("left", "right"):
    s, sign = side.capitalize(), 1 if side == "left" else -1
    leg = _LEG * (sign, 1, 1)
    hip = np.array((sign * 0.09, -0.1, 0.03))
    shoulder = np.array((sign * 0.19, 0.27, 0))
    spec += [
        (f"{s[0]}HipJoint", "Hips", (0, 0, 0), _ZYX),
        (f"{s}Hip", f"{s[0]}HipJoint", hip, _ZYX),
        (f"{s}Knee", f"{s}Hip", hip + 0.42 * leg, _ZYX),
        (f"{s}Ankle", f"{s}Knee", hip + 0.82 * leg, _ZYX),
        (f"{s}Toe", f"{s}Ankle", hip + 0.85 * leg + (0, 0, 0.12), _ZYX),
        (f"{s}Toe/end", f"{s}Toe", hip + 0.85 * leg + (0, 0, 0.17), None),
        (f"{s}Collar", "Chest2", (0, 0.22, 0), _ZYX),
        (f"{s}Shoulder", f"{s}Collar", shoulder, zxy),
        (f"{s}Elbow", f"{s}Shoulder", shoulder - (0, 0.27, 0), zxy),
        (f"{s}Wrist", f"{s}Elbow", shoulder - (0, 0.52, 0), zxy),
        (f"{s[0].lower()}hand", f"{s}Wrist", shoulder - (0, 0.52, 0), zxy),
        (f"{s[0]}Fingers", f"{s[0].lower()}hand", shoulder - (0, 0.58, 0), zxy),
        (f"{s[0]}Fingers/end", f"{s[0]}Fingers", shoulder - (0, 0.62, 0), None)]
  return _Skeleton(spec)


def _smpl_poses(skeleton, tmp_path, rotations_per_frame):
  path = skeleton.write(tmp_path / "motion.bvh", skeleton.frames(rotations_per_frame))
  return cmu_bvh.smpl_poses(bvh.read(path), path).reshape(-1, 24, 3)


# ---------------------------------------------------------------- BVH parsing


def test_bvh_reads_rest_pose_and_euler_channels_in_file_order(tmp_path):
  skeleton = _Skeleton([("Root", None, (0, 0, 0), _ROOT),
                        ("A", "Root", (0, 1, 0), "Xrotation Yrotation Zrotation"),
                        ("B", "A", (0, 2, 0.5), _ZYX), ("B/end", "B", (1, 2, 0.5), None)])
  values = np.zeros((2, skeleton.num_channels))
  values[1, 6:9] = (10, 20, 30)  # A: X, Y, Z
  values[1, 9:12] = (30, 20, 10)  # B: Z, Y, X
  path = skeleton.write(tmp_path / "t.bvh", values, frame_time=0.04)
  motion = bvh.read(path)
  assert motion.skeleton.names == ("Root", "A", "B", "B/end")
  assert motion.skeleton.parents == (-1, 0, 1, 2)
  assert motion.frame_time == pytest.approx(0.04)
  np.testing.assert_allclose(bvh.rest_positions(motion.skeleton),
                             [(0, 0, 0), (0, 1, 0), (0, 2, 0.5), (1, 2, 0.5)], atol=1e-6)

  def axis(name, degrees):
    return Rotation.from_rotvec(np.radians(degrees) * np.eye(3)["XYZ".index(name)]).as_matrix()

  a = axis("X", 10) @ axis("Y", 20) @ axis("Z", 30)  # listed order: X then Y then Z
  b = axis("Z", 30) @ axis("Y", 20) @ axis("X", 10)
  rotations = bvh.global_rotations(motion)
  np.testing.assert_allclose(rotations[0], np.tile(np.eye(3), (4, 1, 1)), atol=1e-12)
  np.testing.assert_allclose(rotations[1, 1], a, atol=1e-9)
  np.testing.assert_allclose(rotations[1, 2], a @ b, atol=1e-9)
  np.testing.assert_allclose(rotations[1, 3], a @ b, atol=1e-9)  # an End Site follows its joint


def test_bvh_errors_name_the_file_and_the_block(tmp_path):
  skeleton = _motionbuilder_skeleton()
  path = skeleton.write(tmp_path / "short.bvh", np.zeros((3, skeleton.num_channels)))
  text = path.read_text().splitlines()
  path.write_text("\n".join(text[:-1]) + "\n")
  c = skeleton.num_channels
  with pytest.raises(checks.BadInput, match=rf"short\.bvh: MOTION of 3 frames × {c} channels = "
                                            rf"{3 * c} values expected, found {2 * c} values"):
    bvh.read(path)
  path.write_text("\n".join(text).replace("OFFSET 0.000000 0.100000", "OFFSET zero 0.100000"))
  with pytest.raises(ValueError, match=r"short\.bvh: OFFSET of joint 'Spine' should be a number"):
    bvh.read(path)
  other = _Skeleton([("Hips", None, (0, 0, 0), _ROOT), ("Chest", "Hips", (0, 1, 0), _ZYX)])
  path = other.write(tmp_path / "other.bvh", np.zeros((1, other.num_channels)))
  with pytest.raises(ValueError, match=r"other\.bvh: HIERARCHY is not a CMU skeleton"):
    cmu_bvh.smpl_poses(bvh.read(path), path)


# ---------------------------------------------------------------- BVH -> SMPL, by construction


@pytest.mark.parametrize("cmu_joints, smpl_joint", [
    (("Hips",), "pelvis"), (("LeftForeArm",), "left_elbow"), (("RightLeg",), "right_knee"),
    (("LeftArm",), "left_shoulder"), (("RightShoulder",), "right_collar"),
    (("Spine",), "spine2"), (("Neck", "Neck1"), "smpl_neck"), (("Head",), "head"),
    (("LeftHand", "LeftFingerBase"), "left_wrist"), (("RightToeBase",), "right_foot")])
def test_a_cmu_joint_rotation_lands_on_its_smpl_joint(tmp_path, cmu_joints, smpl_joint):
  """A T-posed CMU skeleton whose limbs point like SMPL's: rotations carry over unchanged."""
  rng = np.random.default_rng(len(smpl_joint))
  rotations = {name: Rotation.from_rotvec(rng.uniform(-0.6, 0.6, 3)) for name in cmu_joints}
  pose = _smpl_poses(_motionbuilder_skeleton(), tmp_path, [rotations])[0]
  expected = np.zeros((24, 3))
  combined = Rotation.identity()
  for name in cmu_joints:  # two CMU joints at one place act as one SMPL joint
    combined = combined * rotations[name]
  expected[_J(smpl_joint)] = combined.as_rotvec()
  np.testing.assert_allclose(pose, expected, atol=1e-5)


def test_cmu_rest_pose_is_aligned_onto_smpl_limbs(tmp_path):
  """The 3ds Max rest pose (arms down, legs spread) gives SMPL limbs pointing the same way."""
  pose = _smpl_poses(_max_skeleton(), tmp_path, [{}])
  _, rotations = _forward_kinematics(pose.reshape(1, -1))
  smpl = _SMPL_LIMB_JOINTS
  for side, sign in (("left", 1), ("right", -1)):
    upper_arm = np.subtract(smpl[f"{side}_elbow"], smpl[f"{side}_shoulder"])
    thigh = np.subtract(smpl[f"{side}_knee"], smpl[f"{side}_hip"])
    assert _angle_deg(rotations[0, _J(f"{side}_shoulder")] @ upper_arm, [0, -1, 0]) < 1e-4
    assert _angle_deg(rotations[0, _J(f"{side}_hip")] @ thigh, _LEG * (sign, 1, 1)) < 1e-4
    for joint in ("elbow", "wrist", "knee", "ankle", "foot"):  # straight limbs stay straight
      np.testing.assert_allclose(pose[0, _J(f"{side}_{joint}")], 0, atol=1e-9)
  np.testing.assert_allclose(pose[0, [_J(n) for n in ("spine1", "smpl_neck", "head")]], 0,
                             atol=1e-9)


def test_elbow_and_knee_flexion_keep_their_angle_and_direction(tmp_path):
  """40° of elbow flexion in the arms-down rest pose, 60° of knee flexion about the spread
  leg's hinge: the same angles in SMPL, forearm forwards, shin backwards."""
  hinge = Rotation.from_euler("z", 20, degrees=True)  # the spread left leg's frame
  frame = {"LeftElbow": Rotation.from_euler("x", -40, degrees=True),
           "LeftKnee": hinge * Rotation.from_euler("x", 60, degrees=True) * hinge.inv()}
  pose = _smpl_poses(_max_skeleton(), tmp_path, [frame])
  elbow, knee = pose[0, _J("left_elbow")], pose[0, _J("left_knee")]
  assert np.degrees(np.linalg.norm(elbow)) == pytest.approx(40, abs=1e-4)
  assert np.degrees(np.linalg.norm(knee)) == pytest.approx(60, abs=1e-4)
  assert _angle_deg(elbow, [0, -1, 0]) < 10  # SMPL's left elbow flexes about -y
  assert _angle_deg(knee, [1, 0, 0]) < 20  # and its knee about +x
  positions, _ = _forward_kinematics(pose.reshape(1, -1))
  forearm = positions[0, _J("left_wrist")] - positions[0, _J("left_elbow")]
  shin = positions[0, _J("left_ankle")] - positions[0, _J("left_knee")]
  assert _angle_deg(forearm, [0, -np.cos(np.radians(40)), np.sin(np.radians(40))]) < 10
  assert shin[2] < -0.5 * np.linalg.norm(shin)  # the foot goes back: the knee bends backwards


# ---------------------------------------------------------------- fixtures in the other formats


def _random_poses(rng, count, width=72):
  return rng.uniform(-0.5, 0.5, (count, width))


def _expected(pose, z_up=True):
  """What the converter should store: the root turned to y-up (angles here stay below π)."""
  pose = pose.copy()
  if z_up:
    pose[:, :3] = (_Z_TO_Y_UP * Rotation.from_rotvec(pose[:, :3])).as_rotvec()
  return pose


def _read_shards(directory):
  parsed = [schema.parse_mocap(batch) for batch in
            tf.data.TFRecordDataset(shards.shard_files(directory, "train")).batch(1000)]
  return {key: np.concatenate([p[key].numpy() for p in parsed]) for key in parsed[0]}


def _convert(input_dir, output_dir, items_per_shard=2):
  items = mocap.list_items(str(input_dir), "train")
  stats = shards.write_split(str(output_dir), "train", items, mocap.make_examples,
                             items_per_shard=items_per_shard)
  return stats, _read_shards(str(output_dir))


def test_amass_takes_the_body_joints_subsamples_and_turns_z_up_to_y_up(tmp_path):
  rng = np.random.default_rng(0)
  poses = _random_poses(rng, 9, 156)
  betas = rng.normal(size=16)
  os.makedirs(tmp_path / "raw" / "CMU" / "01")
  np.savez(tmp_path / "raw" / "CMU" / "01" / "01_01_poses.npz", poses=poses, betas=betas,
           trans=np.zeros((9, 3)), gender="male", mocap_framerate=120.0)
  stats, out = _convert(tmp_path / "raw", tmp_path / "out")
  kept = [0, 4, 8]  # 120 fps -> 30 fps
  expected = np.concatenate([poses[kept, :66], np.zeros((3, 6))], axis=1)  # SMPL hands zero
  np.testing.assert_allclose(out["pose"], _expected(expected), atol=1e-6)
  np.testing.assert_allclose(out["shape"], np.tile(betas[:10], (3, 1)), atol=1e-6)
  assert [s.decode() for s in out["source"]] == [f"CMU/01/01_01_poses.npz:{i}" for i in kept]
  assert stats.examples == 3


def test_amass_upright_body_ends_up_along_y(tmp_path):
  """A standing z-up AMASS frame (root = R_x(+90°)) has its pelvis-to-head axis along +y."""
  poses = np.zeros((1, 156))
  poses[0, :3] = (np.pi / 2, 0, 0)
  np.savez(tmp_path / "stand.npz", poses=poses, betas=np.zeros(16), mocap_framerate=60.0)
  _, out = _convert(tmp_path, tmp_path / "out")
  positions, _ = _forward_kinematics(out["pose"].astype(np.float64))
  raw_positions, _ = _forward_kinematics(poses[:, :72])
  assert _angle_deg(raw_positions[0, _J("head")], [0, 0, 1]) < 10  # z-up as stored
  assert _angle_deg(positions[0, _J("head")], [0, 1, 0]) < 10


def test_mosh_npz_pkl_and_records_round_trip_through_shards(tmp_path):
  rng = np.random.default_rng(1)
  raw = tmp_path / "raw"
  os.makedirs(raw)
  npz_pose, npz_shape = _random_poses(rng, 5), rng.normal(size=(5, 10))
  np.savez(raw / "a_mosh.npz", pose=npz_pose, shape=npz_shape)
  pkl_pose, pkl_betas = _random_poses(rng, 4), rng.normal(size=10)
  with open(raw / "b_cmu.pkl", "wb") as f:
    pickle.dump({"poses": pkl_pose, "betas": pkl_betas, "trans": np.zeros((4, 3))}, f)
  record_pose, record_shape = _random_poses(rng, 12), rng.normal(size=(12, 10))
  with tf.io.TFRecordWriter(str(raw / "c_neutrSMPL_CMU_000.tfrecord")) as writer:
    for pose, shape in zip(record_pose, record_shape):
      writer.write(tf.train.Example(features=tf.train.Features(feature={
          "pose": tf.train.Feature(float_list=tf.train.FloatList(value=pose)),
          "shape": tf.train.Feature(float_list=tf.train.FloatList(value=shape))}))
                   .SerializeToString())
  stats, out = _convert(raw, tmp_path / "out")
  assert stats.examples == 21 and stats.items == 4  # the records file is two chunks of 10
  expected_pose = np.concatenate([npz_pose, pkl_pose, record_pose.astype(np.float32)])
  expected_shape = np.concatenate([npz_shape, np.tile(pkl_betas, (4, 1)), record_shape])
  np.testing.assert_allclose(out["pose"], _expected(expected_pose), atol=1e-5)
  np.testing.assert_allclose(out["shape"], expected_shape, atol=1e-5)
  assert out["source"][5].decode() == "b_cmu.pkl:0"


def test_broken_frames_and_files_without_poses_are_skipped_and_counted(tmp_path):
  rng = np.random.default_rng(2)
  pose = _random_poses(rng, 25)
  pose[13, 40] = np.nan
  np.savez(tmp_path / "mosh.npz", pose=pose, shape=np.zeros(10))
  np.savez(tmp_path / "shape.npz", betas=np.zeros(16), gender="female")  # as AMASS ships
  with tf.io.TFRecordWriter(str(tmp_path / "images.tfrecord")) as writer:
    writer.write(schema.mocap_example(np.zeros(72), np.zeros(10), "x").SerializeToString()
                 .replace(b"pose", b"posX"))
  (tmp_path / "notes.txt").write_text("not mocap")
  items = mocap.list_items(str(tmp_path), "train")
  assert [(i.start, i.stop) for i in items if i.kind] == [(0, 10), (10, 20), (20, 25)]
  stats = shards.write_split(str(tmp_path / "out"), "train", items, mocap.make_examples)
  assert stats.examples == 15
  assert stats.skipped == {
      "non-finite pose or shape (chunk of up to 10 poses)": 1,
      "npz without 'poses' or 'pose' (not motion)": 1,
      "tfrecord without 'pose' and 'shape' features (not mocap records)": 1}


def test_unreadable_input_errors_name_the_file_and_the_field(tmp_path):
  with pytest.raises(FileNotFoundError, match="no mocap poses under"):
    mocap.list_items(str(tmp_path), "train")
  np.savez(tmp_path / "bad.npz", pose=np.zeros((3, 69)), shape=np.zeros(10))
  items = mocap.list_items(str(tmp_path), "train")
  with pytest.raises(checks.BadInput, match=r"bad\.npz: expected pose of shape \[N, 72\], "
                                            r"found \[3, 69\]"):
    list(mocap.make_examples(items[0]))
  np.savez(tmp_path / "bad.npz", poses=np.zeros((3, 156)), betas=np.zeros(16))
  with pytest.raises(checks.BadInput, match=r"bad\.npz: no field 'mocap_framerate' or "
                                       r"'mocap_frame_rate'"):
    mocap.list_items(str(tmp_path), "train")


# ---------------------------------------------------------------- the real files


def _cmu_files(shared_data):
  files = sorted(glob.glob(os.path.join(shared_data, "cmu_bvh", "*.bvh")))
  if not files:
    pytest.skip(f"no CMU BVH files in {shared_data}/cmu_bvh")
  return files


def test_real_cmu_walks_give_plausible_smpl_poses(shared_data):
  for path in _cmu_files(shared_data):
    motion = bvh.read(path)
    pose = cmu_bvh.smpl_poses(motion, path)
    assert np.all(np.isfinite(pose)) and np.all(np.linalg.norm(pose.reshape(-1, 3), axis=1)
                                                 <= np.pi + 1e-6)
    positions, rotations = _forward_kinematics(pose)
    pelvis, forward = positions[:, 0], rotations[:, 0, :, 2]
    assert np.all(positions[:, _J("head"), 1] > pelvis[:, 1] + 0.4)  # y-up, standing
    for side in ("left", "right"):
      ankle, knee, hip = (positions[:, _J(f"{side}_{j}")] for j in ("ankle", "knee", "hip"))
      assert np.all(ankle[:, 1] < pelvis[:, 1] - 0.6)
      # The knee bends backwards: it lies ahead of the hip-ankle line, never behind it.
      assert np.all(np.sum((knee - (hip + ankle) / 2) * forward, axis=1) > 0)
      knee_pose = pose.reshape(-1, 24, 3)[:, _J(f"{side}_knee")]
      assert np.all(knee_pose[np.linalg.norm(knee_pose, axis=1) > 0.3, 0] > 0.25)
      # Arms hang beside the torso while walking.
      wrist, shoulder = positions[:, _J(f"{side}_wrist")], positions[:, _J(f"{side}_shoulder")]
      assert np.median(shoulder[:, 1] - wrist[:, 1]) > 0.35
      lateral = np.linalg.norm((wrist - pelvis)[:, [0, 2]], axis=1)
      assert np.median(lateral) < 0.35


def test_real_cmu_thighs_and_upper_arms_point_where_the_mocap_does(shared_data):
  path = _cmu_files(shared_data)[0]
  motion = bvh.read(path)
  _, smpl_rotations = _forward_kinematics(cmu_bvh.smpl_poses(motion, path))
  cmu_rotations = bvh.global_rotations(motion)
  rest = bvh.rest_positions(motion.skeleton)
  names = cmu_bvh.naming(motion.skeleton, path)
  smpl = _SMPL_LIMB_JOINTS
  for start, end in (("left_hip", "left_knee"), ("right_shoulder", "right_elbow")):
    a, b = motion.skeleton.index(names[start]), motion.skeleton.index(names[end])
    cmu_direction = cmu_rotations[:, a] @ (rest[b] - rest[a])
    smpl_direction = smpl_rotations[:, _J(start)] @ np.subtract(smpl[end], smpl[start])
    assert np.max(_angle_deg(smpl_direction, cmu_direction)) < 1e-3


def test_real_cmu_walk_on_the_free_body(shared_data):
  import hmr_tf.body  # pylint: disable=import-outside-toplevel
  if not hasattr(hmr_tf.body, "free_body_model"):
    pytest.skip("hmr_tf.body.free_body_model is not available in this checkout")
  path = _cmu_files(shared_data)[0]
  pose = cmu_bvh.smpl_poses(bvh.read(path), path)[::20].astype(np.float32)
  smpl = hmr_tf.body.SMPL(hmr_tf.body.free_body_model())
  positions = smpl(pose, np.zeros((len(pose), 10), np.float32))["joints"].numpy()
  pelvis = positions[:, 0, 1]
  assert np.all(positions[:, _J("head"), 1] > pelvis + 0.4)
  assert np.all(positions[:, [_J("left_ankle"), _J("right_ankle")], 1].max(1) < pelvis - 0.6)
  assert np.all(positions[:, [_J("left_wrist"), _J("right_wrist")], 1].max(1) < pelvis + 0.3)


def test_real_samples_convert_with_the_expected_counts(shared_data, tmp_path):
  expected = {  # folder: (frames in the files, poses out)
      "amass_samples": (601 + 235 + 500, 151 + 59 + 125),  # 120 fps -> 30
      "cmu_bvh": (343 + 316 + 471 + 358 + 378, 86 + 79 + 118 + 90 + 95),  # 120 fps -> 30
      "hmr2.0_russoale": (2751 + 10000, 12751),  # CMU mosh pkl + russoale's records, whole
      "mmpose_testdata/mosh": (4, 4)}
  for folder, (_, count) in expected.items():
    input_dir = os.path.join(shared_data, folder)
    if not os.path.isdir(input_dir):
      pytest.skip(f"{input_dir} not found")
    stats, out = _convert(input_dir, tmp_path / folder, items_per_shard=1000)
    assert stats.examples == count and not stats.skipped, folder
    assert np.all(np.isfinite(out["pose"]))
    assert np.all(np.linalg.norm(out["pose"].reshape(-1, 3), axis=1) <= np.pi + 1e-5)


def test_real_amass_bodies_stand_along_y(shared_data, tmp_path):
  path = os.path.join(shared_data, "amass_samples", "amass_sample.npz")
  if not os.path.isfile(path):
    pytest.skip(f"{path} not found")
  os.makedirs(tmp_path / "raw")
  os.symlink(path, tmp_path / "raw" / "amass_sample.npz")
  _, out = _convert(tmp_path / "raw", tmp_path / "out", items_per_shard=1000)
  positions, _ = _forward_kinematics(out["pose"].astype(np.float64))
  up = positions[:, _J("head")] - positions[:, 0]
  assert np.all(_angle_deg(up, [0, 1, 0]) < 15)
  raw_positions, _ = _forward_kinematics(np.load(path)["poses"][::4, :72])
  assert np.all(_angle_deg(raw_positions[:, _J("head")], [0, 0, 1]) < 15)
