"""The mean Θ that HMR's iterative regressor starts from.

HMR (src/models.py, load_mean_param) reads the mean SMPL pose and shape from
neutral_smpl_mean_params.h5, then replaces the root rotation with π about x, so that the body
stands upright in image coordinates (y down), and sets the camera to s = 0.9, tx = ty = 0.
SPIN's smpl_mean_params.npz holds the same means with the pose as 24 6D rotations (its root is
the same π rotation). Both are read here into the 85-d Θ layout; without a file the default is
the rest pose, upright, with mean shape zero.
"""

import os

import numpy as np

from hmr_tf import geometry
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
    raise ValueError(f"{path}: expected HMR's .h5 or SPIN's .npz mean parameters")
  pose = np.array(pose, np.float64)
  pose[:3] = UPRIGHT_ROOT
  camera = np.array([INIT_SCALE, 0.0, 0.0])
  return np.concatenate([camera, pose, shape]).astype(np.float32)


def _read_hmr_h5(path):
  import h5py  # pylint: disable=import-outside-toplevel  (only this reader needs it)
  with h5py.File(path, "r") as f:
    return (_field(path, f, "pose", (theta.NUM_POSE,)), _field(path, f, "shape", (theta.NUM_SHAPE,)))


def _read_spin_npz(path):
  with np.load(path, allow_pickle=False) as f:
    rot6d = _field(path, f, "pose", (24 * 6,)).reshape(24, 6)
    shape = _field(path, f, "shape", (theta.NUM_SHAPE,))
  pose = geometry.matrix_to_axis_angle(geometry.rot6d_to_matrix(rot6d)).numpy().reshape(-1)
  return pose, shape


def _field(path, container, key, shape):
  if key not in container:
    raise ValueError(f"{path}: missing key '{key}'; found {sorted(container.keys())}")
  value = np.asarray(container[key], np.float64)
  if value.shape != shape:
    raise ValueError(f"{path}: field '{key}' should have shape {list(shape)}, found {list(value.shape)}")
  return value
