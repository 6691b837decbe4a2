"""Mocap poses for HMR's discriminator and the synthetic world: AMASS, CMU BVH and mosh sets.

  hmr-convert mocap --input DIR --output datasets/mocap_<name>

Every file under DIR (recursively) is read by what it holds:

  *.npz with 'poses'   AMASS: SMPL-H [N, 156] or SMPL-X [N, 165] axis-angle, of which SMPL takes
                       the root and 21 body joints (SMPL's two hand joints are set to zero; a
                       [N, 72] SMPL array is kept whole); 'betas' [16] -> the first 10;
                       'mocap_framerate' (or 'mocap_frame_rate').
  *.npz with 'pose'    mosh: pose [N, 72], shape [N, 10] or [10] (as mmpose's test_mosh.npz).
  *.pkl                mosh: 'poses' or 'pose' [N, 72], 'betas' or 'shape' [10] or [N, 10].
  *.tfrecord           HMR's neutrSMPL_<name>_*.tfrecord and russoale's records: one pose
                       float[72] and one shape float[10] per example.
  *.bvh                CMU in cgspeed's BVH releases, retargeted onto SMPL (cmu_bvh.py); BVH
                       has no body shape, so the shape is zero.

Poses come out in SMPL's frame, y up. AMASS and the mosh sets (HMR's, russoale's, mmpose's
samples all) are in z-up mocap worlds, so their root rotation is turned by -90° about x; BVH
is y-up already. The root keeps each recording's heading. AMASS and BVH are subsampled to
about TARGET_FPS, keeping every k-th frame with k the whole number nearest to fps / TARGET_FPS
(consecutive frames at 60-120 fps are near copies); mosh sets are kept whole, as HMR used
them. Every angle is wrapped into [0, π]. A file is cut into items of up to CHUNK poses; a
chunk with a non-finite pose or shape is skipped whole and counted (mocap breaks in runs, and
the poses beside a broken one are suspect).
"""

import dataclasses
import functools
import os

from google.protobuf import message
import numpy as np
from scipy.spatial.transform import Rotation
import tensorflow as tf

from hmr_tf import array_files
from hmr_tf import checks
from hmr_tf import joints
from hmr_tf import safe_pickle
from hmr_tf import theta
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.datasets import bvh
from hmr_tf.datasets import cmu_bvh

KIND = "mocap"
SPLITS = ("train",)
SOURCE_JOINTS = joints.SMPL_24
TARGET_FPS = 30  # AMASS and BVH frames kept per second
CHUNK = 10  # poses per item: 1000 items per shard gives HMR's 10 000 poses per file

_BODY_POSE = 66  # root + 21 body joints, the start of SMPL-H and SMPL-X poses
_SMPLH_POSE, _SMPLX_POSE = 156, 165  # AMASS's pose widths
_FRAME_RATE_KEYS = ("mocap_framerate", "mocap_frame_rate")  # AMASS's two spellings
_Z_UP_TO_Y_UP = Rotation.from_euler("x", -90, degrees=True)


@dataclasses.dataclass(frozen=True, slots=True)
class Item:
  """Poses [start, stop) of one file's converted poses, or a file skipped for `skip`."""

  path: str
  kind: str  # a key of _READERS ("amass", "bvh", ...); "" for a skipped file
  source: str  # the path relative to the input folder
  start: int = 0
  stop: int = 0
  skip: str = ""


@dataclasses.dataclass(frozen=True)
class _Poses:
  """One file, converted."""

  pose: np.ndarray  # [M, 72] SMPL axis-angle, y-up
  shape: np.ndarray  # [M, 10]
  frame: np.ndarray  # [M] the index of each pose's frame in the file
  valid: np.ndarray  # [M] bool: pose and shape finite


# ---------------------------------------------------------------- reading each kind of file


def _array(data, path, key, width=None):
  """data[key] as a float64 array, [N, width] when width is given; BadInput naming it."""
  if key not in data:
    raise checks.BadInput(f"{path}: no field '{key}' (found: {', '.join(sorted(map(str, data)))})")
  return checks.array(data[key], None if width is None else ("N", width), key, path)


def _first_key(data, path, keys, names=None):
  for key in keys:
    if key in data:
      return key
  raise checks.BadInput(f"{path}: no field {' or '.join(repr(k) for k in keys)} "
                        f"(found: {', '.join(sorted(map(str, names or data)))})")


def _shapes(data, path, key, count):
  """[count, 10] from a [S] or [count, S] field with S >= 10 (its first 10 coefficients)."""
  betas = _array(data, path, key)
  if betas.ndim not in (1, 2) or betas.shape[-1] < theta.NUM_SHAPE or (
      betas.ndim == 2 and len(betas) != count):
    raise checks.BadInput(f"{path}: expected {key} of shape [S] or [{count}, S] with S >= "
                          f"{theta.NUM_SHAPE}, found {list(betas.shape)}")
  return np.broadcast_to(betas[..., :theta.NUM_SHAPE], (count, theta.NUM_SHAPE))


def _step(fps, path):
  if not fps > 0 or not np.isfinite(fps):
    raise checks.BadInput(f"{path}: frame rate should be positive, found {fps}")
  return max(1, round(fps / TARGET_FPS))


def _amass_step(data, path, names=None):
  """The frame step of an AMASS file; `names` lists the file's keys where `data` holds only
  some."""
  key = _first_key(data, path, _FRAME_RATE_KEYS, names)
  rate = checks.array(data[key], None, key, path)
  if rate.size != 1:
    raise checks.BadInput(f"{path}: expected {key} to be one number, found {list(rate.shape)}")
  return _step(float(rate.reshape(-1)[0]), path)


def _read_amass(path):
  """(pose [M, 72] z-up, shape [M, 10], frame [M]) at TARGET_FPS."""
  data = array_files.load_npz(path)
  poses = _array(data, path, "poses", (theta.NUM_POSE, _SMPLH_POSE, _SMPLX_POSE))
  frame = np.arange(0, len(poses), _amass_step(data, path))
  shape = _shapes(data, path, "betas", len(frame))
  pose = poses[frame]
  if pose.shape[1] != theta.NUM_POSE:
    pose = np.concatenate([pose[:, :_BODY_POSE], np.zeros((len(pose), 6))], axis=1)
  return pose, shape, frame


def _read_mosh(data, path, pose_keys, shape_keys):
  pose = _array(data, path, _first_key(data, path, pose_keys), theta.NUM_POSE)
  shape = _shapes(data, path, _first_key(data, path, shape_keys), len(pose))
  return pose, shape, np.arange(len(pose))


def _load_pkl(path):
  data = safe_pickle.load(path)
  if not isinstance(data, dict):
    raise checks.BadInput(f"{path}: should hold a dict, found {type(data).__name__}")
  return data


def _records(path):
  """{"pose": [N, 72], "shape": [N, 10]} from an HMR-style mocap .tfrecord."""
  sizes = {"pose": theta.NUM_POSE, "shape": theta.NUM_SHAPE}
  columns = {key: [] for key in sizes}
  try:
    for i, record in enumerate(tf.data.TFRecordDataset(path).as_numpy_iterator()):
      features = tf.train.Example.FromString(record).features.feature
      for key, size in sizes.items():
        if key not in features or len(features[key].float_list.value) != size:
          raise checks.BadInput(f"{path}: record {i} should have a float feature '{key}' of {size} "
                                f"values (found features: {', '.join(sorted(features))})")
        columns[key].append(features[key].float_list.value)
  except (tf.errors.OpError, message.DecodeError) as error:
    raise checks.BadInput(f"{path}: not a readable TFRecord file of tf.train.Examples "
                          f"({error})") from error
  return {key: np.array(columns[key], np.float64).reshape(-1, size) for key, size in sizes.items()}


def _read_bvh(path):
  """(pose [M, 72] y-up, zero shape [M, 10], frame [M]) at TARGET_FPS."""
  motion = bvh.read(path)
  step = _step(1 / motion.frame_time, path)
  motion = dataclasses.replace(motion, values=motion.values[::step])
  pose = cmu_bvh.smpl_poses(motion, path)
  return pose, np.zeros((len(pose), theta.NUM_SHAPE)), np.arange(0, len(pose) * step, step)


def _read_mosh_npz(path):
  return _read_mosh(array_files.load_npz(path), path, ("pose",), ("shape",))


_PKL_FIELDS = (("poses", "pose"), ("betas", "shape"))  # the pose and the shape, either name


def _read_mosh_pkl(path):
  return _read_mosh(_load_pkl(path), path, *_PKL_FIELDS)


def _read_records(path):
  return _read_mosh(_records(path), path, ("pose",), ("shape",))


# kind -> (reader, whether its world is z-up)
_READERS = {"amass": (_read_amass, True), "mosh_npz": (_read_mosh_npz, True),
            "mosh_pkl": (_read_mosh_pkl, True), "records": (_read_records, True),
            "bvh": (_read_bvh, False)}


# ---------------------------------------------------------------- converting and listing


def _canonical(pose, z_up) -> np.ndarray:
  """[N, 72] poses with every angle wrapped into [0, π], the root turned to y-up if z_up."""
  rotations = Rotation.from_rotvec(pose.reshape(-1, 3)).as_rotvec().reshape(pose.shape)
  if z_up:
    rotations[:, :3] = (_Z_UP_TO_Y_UP * Rotation.from_rotvec(pose[:, :3])).as_rotvec()
  return rotations


@functools.lru_cache(maxsize=1)  # a shard takes a file's chunks in order: one read per file
def _converted(path, kind) -> _Poses:
  reader, z_up = _READERS[kind]
  pose, shape, frame = reader(path)
  valid = np.isfinite(pose).all(axis=1) & np.isfinite(shape).all(axis=1)
  pose = _canonical(np.where(valid[:, None], pose, 0.0), z_up)
  return _Poses(pose, shape, frame, valid)


def _npz_rows(path, key):
  """Rows of array `key` of an .npz, from its header alone."""
  shape, _ = array_files.npz_header(path, key)
  if len(shape) != 2:
    raise checks.BadInput(f"{path}: expected {key} of shape [N, C], found {list(shape)}")
  return shape[0]


def _describe(path):
  """(kind, number of poses, "") for a mocap file, ("", 0, why) for one of a mocap file type
  that holds no poses, None for any other file."""
  extension = os.path.splitext(path)[1].lower()
  if extension == ".bvh":
    skeleton, num_frames, frame_time = bvh.read_header(path)
    cmu_bvh.naming(skeleton, path)  # an unknown skeleton fails here, before any conversion
    return "bvh", len(range(0, num_frames, _step(1 / frame_time, path))), ""
  if extension == ".npz":
    keys = array_files.npz_keys(path)
    if "poses" in keys:
      step = _amass_step(array_files.load_npz(path, keys=_FRAME_RATE_KEYS), path, keys)
      return "amass", len(range(0, _npz_rows(path, "poses"), step)), ""
    if "pose" in keys:
      return "mosh_npz", _npz_rows(path, "pose"), ""
    return "", 0, "npz without 'poses' or 'pose' (not motion)"
  if extension == ".pkl":
    data = _load_pkl(path)
    if not set(_PKL_FIELDS[0]) & set(data):
      return "", 0, "pkl without 'poses' or 'pose' (not motion)"
    return "mosh_pkl", len(_read_mosh(data, path, *_PKL_FIELDS)[0]), ""
  if extension == ".tfrecord":
    try:
      first = next(tf.data.TFRecordDataset(path).take(1).as_numpy_iterator(), None)
      features = set(tf.train.Example.FromString(first or b"").features.feature)
      # Counted without parsing; make_examples checks each record.
      count = int(tf.data.TFRecordDataset(path).reduce(np.int64(0), lambda n, _: n + 1))
    except (tf.errors.OpError, message.DecodeError) as error:
      raise checks.BadInput(f"{path}: not a readable TFRecord file of tf.train.Examples "
                            f"({error})") from error
    if count and not {"pose", "shape"} <= features:
      return "", 0, "tfrecord without 'pose' and 'shape' features (not mocap records)"
    return "records", count, ""
  return None


def list_items(input_dir, split):
  """Chunks of up to CHUNK poses of every mocap file under input_dir, in path order."""
  if split not in SPLITS:
    raise ValueError(f"mocap has splits {SPLITS}, not '{split}'")
  if not os.path.isdir(input_dir):
    raise FileNotFoundError(f"mocap input folder not found: {input_dir}")
  paths = sorted(os.path.join(folder, name) for folder, _, names in os.walk(input_dir)
                 for name in names)
  items = []
  for path in paths:
    described = _describe(path)
    if described is None:
      continue
    kind, count, skip = described
    source = os.path.relpath(path, input_dir)
    if skip or count == 0:
      items.append(Item(path, "", source, skip=skip or "file without frames"))
    else:
      items += [Item(path, kind, source, start, min(start + CHUNK, count))
                for start in range(0, count, CHUNK)]
  if not any(item.kind for item in items):
    raise FileNotFoundError(
        f"no mocap poses under {input_dir}: looked for *.npz with 'poses' (AMASS) or 'pose' "
        f"(mosh), *.pkl and *.tfrecord mosh records, and *.bvh files ({len(items)} files of "
        "those types hold none)")
  return items


def make_examples(item):
  """The mocap examples of one chunk; SkipExample for a file without poses or a broken chunk."""
  if item.skip:
    raise shards.SkipExample(item.skip)
  poses = _converted(item.path, item.kind)
  if not poses.valid[item.start:item.stop].all():
    raise shards.SkipExample(f"non-finite pose or shape (chunk of up to {CHUNK} poses)")
  for i in range(item.start, item.stop):
    yield schema.mocap_example(poses.pose[i], poses.shape[i], f"{item.source}:{poses.frame[i]}")
