"""The mean Θ that HMR's iterative regressor starts from.

HMR (src/models.py, load_mean_param) reads the mean SMPL pose and shape from
neutral_smpl_mean_params.h5, then replaces the root rotation with π about x, so that the body
stands upright in image coordinates (y down), and sets the camera to s = 0.9, tx = ty = 0.
SPIN's smpl_mean_params.npz holds the same means with the pose as 24 6D rotations (its root is
the same π rotation). Both are read here into the 85-d Θ layout; without a file the default is
the rest pose, upright, with mean shape zero. write_mean_params makes such a file from a mocap
pool (SPIN's layout), for a world whose poses are not HMR's (the synthetic one).
"""

import os

import numpy as np
from scipy.spatial import transform

from hmr_tf import array_files
from hmr_tf import atomic
from hmr_tf import checks
from hmr_tf import geometry
from hmr_tf import joints
from hmr_tf import theta

INIT_SCALE = 0.9  # HMR's initial weak-perspective scale: the body fills ~90% of the crop
UPRIGHT_ROOT = (np.pi, 0.0, 0.0)


def load_mean_params(path=None) -> np.ndarray:
  """Θ₀ [85] float32 from HMR's .h5, SPIN's .npz, or the built-in default when path is None.

  h5py reads the .h5: it is the maintained HDF5 binding and already a TensorFlow/Keras
  dependency, where HMR's deepdish is unmaintained and pulls in PyTables.
  """
  if path is None:
    pose, shape = np.zeros(theta.NUM_POSE), np.zeros(theta.NUM_SHAPE)
  elif not os.path.isfile(path):
    raise FileNotFoundError(f"no mean-parameters file at {path}")
  elif path.endswith(".h5"):
    pose, shape = _read_hmr_h5(path)
  elif path.endswith(".npz"):
    pose, shape = _read_spin_npz(path)
  else:
    raise checks.BadInput(f"{path}: expected HMR's .h5 or SPIN's .npz mean parameters")
  pose = np.array(pose, np.float64)
  pose[:3] = UPRIGHT_ROOT
  camera = np.array([INIT_SCALE, 0.0, 0.0])
  return np.concatenate([camera, pose, shape]).astype(np.float32)


def mean_pose(poses):
  """[72] axis-angle: each joint's mean rotation over [N, 72] poses.

  The chordal L2 mean (scipy's Rotation.mean: the rotation nearest the mean rotation matrix),
  the constant that minimises HMR's SMPL loss, a squared error of rotation matrices.
  """
  poses = np.asarray(poses, np.float64).reshape(len(poses), -1, 3)
  return np.concatenate([transform.Rotation.from_rotvec(poses[:, j]).mean().as_rotvec()
                         for j in range(poses.shape[1])])


def write_mean_params(path, poses, shapes):
  """Writes the mean pose and shape of a mocap pool as SPIN's .npz (pose as 24 6D rotations).

  The regressor starts each image from this Θ₀ and Adam moves it by about the learning rate per
  step, so starting from the data's mean spares a short run hundreds of steps spent walking
  there from the rest pose (whose arms are 75° from hanging down).

  Args:
    path: the .npz to write (atomically).
    poses: [N, 72] SMPL axis-angle poses; their roots do not matter (Θ₀'s is upright).
    shapes: [N, 10] betas.
  """
  rotmats = transform.Rotation.from_rotvec(mean_pose(poses).reshape(-1, 3)).as_matrix()
  rot6d = geometry.matrix_to_rot6d(rotmats).numpy().reshape(-1)
  with atomic.atomic_write(path) as f:
    np.savez(f, pose=rot6d, shape=np.mean(shapes, axis=0))


def _read_hmr_h5(path):
  import h5py  # pylint: disable=import-outside-toplevel  (only this reader needs it)
  try:
    with h5py.File(path, "r") as f:
      names = list(f)  # link names only: no link is followed
      data = {key: array_files.h5_dataset(f, key, path)[()] for key in ("pose", "shape")
              if key in names}
  except OSError as error:  # h5py: not HDF5, truncated, unreadable
    raise checks.BadInput(f"{path}: not a readable HDF5 file ({error})") from None
  return (_field(path, data, "pose", (theta.NUM_POSE,), names),
          _field(path, data, "shape", (theta.NUM_SHAPE,), names))


def _read_spin_npz(path):
  data = array_files.load_npz(path, keys=("pose", "shape"))
  names = array_files.npz_keys(path)
  num_joints = len(joints.SMPL_24)
  rot6d = _field(path, data, "pose", (num_joints * 6,), names).reshape(num_joints, 6)
  shape = _field(path, data, "shape", (theta.NUM_SHAPE,), names)
  pose = geometry.matrix_to_axis_angle(geometry.rot6d_to_matrix(rot6d)).numpy().reshape(-1)
  return pose, shape


def _field(path, data, key, shape, names):
  """data[key] as finite float64 of `shape`; `names` are all the file's keys, for messages."""
  if key not in data:
    raise checks.BadInput(f"{path}: missing key '{key}'; found {sorted(names)}")
  return checks.array(data[key], shape, key, path, finite=True)
