"""Readers for every SMPL body-model file users have, and our own .npz format.

Supported:
  * SMPL v1.0.0 .pkl (basicModel_*_lbs_10_207_0_v1.0.0.pkl) and HMR's
    neutral_smpl_with_cocoplus_reg.pkl: Python-2 pickles holding chumpy `Ch` objects and a
    scipy.sparse J_regressor. Read without chumpy.
  * SMPL v1.1.0 .pkl (plain numpy, 300 betas) and smplx-style .npz (SMPL_NEUTRAL.npz).
  * Our .npz written by `save_body_model` (the `format` key tells it apart).

A model file is data, never behaviour: pickles are read with hmr_tf.safe_pickle, which builds
arrays from checked parts and nothing else (a pickle that would call os.system is refused before
any code from the file runs), .npz files with hmr_tf.array_files (no pickles, sizes checked
before allocating), and every field must be a finite numeric array of the expected shape.
"""

import dataclasses
import os

import numpy as np

from hmr_tf import array_files
from hmr_tf import atomic
from hmr_tf import checks
from hmr_tf import safe_pickle
from hmr_tf import theta
from hmr_tf.body.body_model import BodyModel

FORMAT = "hmr_tf.body_model"
FORMAT_VERSION = 1
NUM_SMPL_JOINTS = 24

# Keys of official files that hold extra keypoint regressors, and the name we give them.
_REGRESSOR_KEYS = {"cocoplus_regressor": "cocoplus", "J_regressor_h36m": "h36m"}
_SMPL_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table",
              "f")
_ARRAY_KEYS = ("v_template", "shapedirs", "J_regressor", "weights", "parents", "faces")


def load_body_model(path, num_betas=theta.NUM_SHAPE, regressors=None) -> BodyModel:
  """Reads any supported body-model file into a BodyModel.

  Args:
    path: an SMPL .pkl (v1.0.0 with chumpy objects, v1.1.0, HMR's cocoplus file), an
      smplx-style .npz, or an .npz written by `save_body_model`.
    num_betas: how many shape components to keep (the first ones).
    regressors: optional name -> [K, V] array or .npy path of extra keypoint regressors to
      attach, e.g. {"h36m": "J_regressor_h36m.npy"} for the evaluation protocols.

  Returns:
    A BodyModel with float64 arrays as stored in the file.

  Raises:
    FileNotFoundError: no file at `path`.
    hmr_tf.checks.BadInput (a ValueError): the file is damaged or none of the supported formats;
      the message names the file and the field (a missing key, a shape, a dtype, a non-finite
      value, a size over the limits). A refused pickle raises safe_pickle.BadPickle, which is
      both a BadInput and a pickle.UnpicklingError.
  """
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"no body-model file at {path}")
  if path.endswith(".npz"):
    data = array_files.load_npz(path)
    if "format" in data:
      model = _from_own_npz(data, path)
      return _with_extra_regressors(_keep_betas(model, num_betas), regressors)
  else:
    data = safe_pickle.load(path)
    if not isinstance(data, dict):
      raise checks.BadInput(f"{path}: expected a pickled dict of SMPL arrays, found "
                            f"{type(data).__name__}")
  return _with_extra_regressors(_keep_betas(_from_smpl_dict(data, path), num_betas), regressors)


def save_body_model(model: BodyModel, path, build=None):
  """Writes `model` to our .npz format, atomically. Zero posedirs are not stored.

  The file carries the model's fingerprint (BodyModel.fingerprint), checked again on loading,
  and `build`, an optional text naming what made the model (e.g. the free body's build
  version).
  """
  arrays = {
      "format": np.array(FORMAT), "format_version": np.array(FORMAT_VERSION),
      "fingerprint": np.array(model.fingerprint),
      "v_template": model.v_template, "shapedirs": model.shapedirs,
      "J_regressor": model.J_regressor, "weights": model.weights,
      "parents": np.asarray(model.parents, np.int32), "faces": np.asarray(model.faces, np.int32),
  }
  if model.has_pose_correctives:
    arrays["posedirs"] = model.posedirs
  for name, regressor in model.regressors.items():
    arrays["regressor/" + name] = regressor
  if build is not None:
    arrays["build"] = np.array(str(build))
  with atomic.atomic_write(path) as f:
    np.savez_compressed(f, **arrays)


def _from_own_npz(data, path):
  version = data.get("format_version")
  version = int(version) if isinstance(version, np.ndarray) and version.shape == () and (
      version.dtype.kind in "iu") else version
  if str(data["format"]) != FORMAT or version != FORMAT_VERSION:
    raise checks.BadInput(f"{path}: expected field 'format' '{FORMAT}' and 'format_version' "
                          f"{FORMAT_VERSION}, found '{data['format']}' and {version!r}")
  _require_keys(data, _ARRAY_KEYS, path)
  arrays = {key: _to_array(data[key], path, key) for key in data
            if key in _ARRAY_KEYS or key == "posedirs" or key.startswith("regressor/")}
  v_template = arrays["v_template"]
  posedirs = arrays.get("posedirs")
  if posedirs is None:  # not stored when zero: its size follows from V and J
    num_verts = checks.array(v_template, ("V", 3), "v_template", path, dtype=None).shape[0]
    num_joints = checks.array(arrays["J_regressor"], ("J", num_verts), "J_regressor", path,
                              dtype=None).shape[0]
    shape = (num_verts, 3, 9 * max(num_joints - 1, 0))
    checks.declared_size(checks.nbytes(shape, v_template.dtype.itemsize),
                         f"the zero posedirs {list(shape)} of its J_regressor", path)
    posedirs = np.zeros(shape, v_template.dtype)
  model = BodyModel(
      v_template=v_template, shapedirs=arrays["shapedirs"], posedirs=posedirs,
      J_regressor=arrays["J_regressor"], weights=arrays["weights"], parents=arrays["parents"],
      faces=arrays["faces"], source=path,
      regressors={key.split("/", 1)[1]: arrays[key] for key in arrays
                  if key.startswith("regressor/")})
  if "fingerprint" in data and str(data["fingerprint"]) != model.fingerprint:
    raise checks.BadInput(f"{path}: field 'fingerprint' is {data['fingerprint']} but the arrays "
                          f"hash to {model.fingerprint}: the file was modified or damaged")
  return model


def read_build(path):
  """The `build` text stored by save_body_model in one of our .npz files, or None."""
  build = array_files.load_npz(path, keys=("build",)).get("build")
  return None if build is None else str(build)


def _from_smpl_dict(data, path):
  """Builds a BodyModel from the key layout shared by SMPL .pkl files and smplx .npz files."""
  _require_keys(data, _SMPL_KEYS, path)
  arrays = {key: _to_array(value, path, key) for key, value in data.items()
            if key in _SMPL_KEYS or key in _REGRESSOR_KEYS}
  num_verts = checks.array(arrays["v_template"], ("V", 3), "v_template", path).shape[0]
  kintree = _indices(arrays["kintree_table"], (2, "J"), "kintree_table", path)
  if kintree.shape[1] != NUM_SMPL_JOINTS:
    raise checks.BadInput(f"{path}: expected an SMPL model with {NUM_SMPL_JOINTS} joints, found "
                          f"{kintree.shape[1]} in 'kintree_table' (SMPL-H and SMPL-X files are "
                          "not supported)")
  # The root's parent is stored as uint32 max (4294967295); every other entry is a joint index.
  parents = np.where(kintree[0] >= NUM_SMPL_JOINTS, -1, kintree[0]).astype(np.int32)
  posedirs = arrays["posedirs"]
  if posedirs.ndim == 2:  # smplx-style npz may store [P, V*3]
    posedirs = checks.array(posedirs, ("P", 3 * num_verts), "posedirs", path, dtype=None)
    posedirs = posedirs.reshape(-1, num_verts, 3).transpose(1, 2, 0)
  regressors = {}
  for key, name in _REGRESSOR_KEYS.items():
    if key in arrays:
      regressor = arrays[key]
      regressors[name] = regressor.T if regressor.shape[0] == num_verts else regressor
  return BodyModel(
      v_template=arrays["v_template"], shapedirs=arrays["shapedirs"], posedirs=posedirs,
      J_regressor=arrays["J_regressor"], weights=arrays["weights"], parents=parents,
      faces=_indices(arrays["f"], ("F", 3), "f", path).astype(np.int32),
      regressors=regressors, source=path)


def _keep_betas(model, num_betas):
  if num_betas > model.num_betas:
    raise checks.BadInput(f"{model.source}: field 'shapedirs' has {model.num_betas} shape "
                          f"components, {num_betas} were requested")
  if num_betas == model.num_betas:
    return model
  return _replace(model, shapedirs=model.shapedirs[:, :, :num_betas])


def _with_extra_regressors(model, regressors):
  if not regressors:
    return model
  extra = {name: _to_array(array_files.load_npy(value), value, name)
           if isinstance(value, (str, os.PathLike)) else np.asarray(value)
           for name, value in regressors.items()}
  return _replace(model, regressors={**model.regressors, **extra})


def _replace(model, **changes):
  return dataclasses.replace(model, **changes)


def _require_keys(data, keys, path):
  missing = [key for key in keys if key not in data]
  if missing:
    raise checks.BadInput(f"{path}: not a body-model file this reader knows: missing key(s) "
                          f"{missing}; found {sorted(map(str, data))}")


def _indices(array, shape, key, path):
  """int64 indices from a numeric array of `shape` that holds whole numbers (any dtype)."""
  array = checks.array(array, shape, key, path)
  if not np.all(array == np.round(array)) or np.any(np.abs(array) >= 2 ** 32):
    raise checks.BadInput(f"{path}: expected {key} to hold indices (whole numbers below 2³²)")
  return array.astype(np.int64)


def _to_array(value, path, key):
  """A finite numeric array (its own dtype) from an array, a sparse matrix or a chumpy object."""
  if isinstance(value, safe_pickle.PickledSparse):
    value = value.to_dense(path, key)
  if isinstance(value, safe_pickle.PickledChumpy):
    value = value.to_array(path, key)
  return checks.array(value, None, key, path, dtype=None, finite=True)
