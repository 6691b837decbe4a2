"""Readers for every SMPL body-model file users have, and our own .npz format.

Supported:
  * SMPL v1.0.0 .pkl (basicModel_*_lbs_10_207_0_v1.0.0.pkl) and HMR's
    neutral_smpl_with_cocoplus_reg.pkl: Python-2 pickles holding chumpy `Ch` objects and a
    scipy.sparse J_regressor. Read without chumpy.
  * SMPL v1.1.0 .pkl (plain numpy, 300 betas) and smplx-style .npz (SMPL_NEUTRAL.npz).
  * Our .npz written by `save_body_model` (the `format` key tells it apart).

Pickles are read with hmr_tf.safe_pickle, which constructs arrays and nothing else: a pickle
that would call os.system raises `pickle.UnpicklingError` before any code from the file runs.
"""

import dataclasses
import os

import numpy as np
import scipy.sparse

from hmr_tf import atomic
from hmr_tf import safe_pickle
from hmr_tf.body.body_model import BodyModel

FORMAT = "hmr_tf.body_model"
FORMAT_VERSION = 1
NUM_SMPL_JOINTS = 24

# Keys of official files that hold extra keypoint regressors, and the name we give them.
_REGRESSOR_KEYS = {"cocoplus_regressor": "cocoplus", "J_regressor_h36m": "h36m"}


def load_body_model(path, num_betas=10, regressors=None) -> BodyModel:
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
    ValueError: the file is none of the supported formats; the message names the missing key
      or the shape that was expected and found.
    pickle.UnpicklingError: the pickle holds objects other than arrays.
  """
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"no body-model file at {path}")
  if path.endswith(".npz"):
    with np.load(path, allow_pickle=False) as npz:
      data = {key: npz[key] for key in npz.files}
    if "format" in data:
      model = _from_own_npz(data, path)
      return _with_extra_regressors(_keep_betas(model, num_betas), regressors)
  else:
    with open(path, "rb") as f:
      data = safe_pickle.load(f, path)
    if not isinstance(data, dict):
      raise ValueError(f"{path}: expected a pickled dict of SMPL arrays, found {type(data).__name__}")
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
  version = int(data["format_version"]) if "format_version" in data else None
  if str(data["format"]) != FORMAT or version != FORMAT_VERSION:
    raise ValueError(f"{path}: expected format '{FORMAT}' version {FORMAT_VERSION}, "
                     f"found '{data['format']}' version {version}")
  _require_keys(data, ("v_template", "shapedirs", "J_regressor", "weights", "parents", "faces"), path)
  v_template = data["v_template"]
  num_joints = data["J_regressor"].shape[0]
  posedirs = data.get("posedirs")
  if posedirs is None:
    posedirs = np.zeros((v_template.shape[0], 3, 9 * (num_joints - 1)), v_template.dtype)
  model = BodyModel(
      v_template=v_template, shapedirs=data["shapedirs"], posedirs=posedirs,
      J_regressor=data["J_regressor"], weights=data["weights"], parents=data["parents"],
      faces=data["faces"], source=path,
      regressors={key.split("/", 1)[1]: data[key] for key in data if key.startswith("regressor/")})
  if "fingerprint" in data and str(data["fingerprint"]) != model.fingerprint:
    raise ValueError(f"{path}: field 'fingerprint' is {data['fingerprint']} but the arrays hash "
                     f"to {model.fingerprint}: the file was modified or damaged")
  return model


def read_build(path):
  """The `build` text stored by save_body_model in one of our .npz files, or None."""
  with np.load(path, allow_pickle=False) as npz:
    return str(npz["build"]) if "build" in npz.files else None


def _from_smpl_dict(data, path):
  """Builds a BodyModel from the key layout shared by SMPL .pkl files and smplx .npz files."""
  _require_keys(data, ("v_template", "shapedirs", "posedirs", "J_regressor", "weights",
                       "kintree_table", "f"), path)
  arrays = {key: _to_array(value, path, key) for key, value in data.items()
            if key in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights",
                       "kintree_table", "f") or key in _REGRESSOR_KEYS}
  num_verts = arrays["v_template"].shape[0]
  kintree = arrays["kintree_table"]
  if kintree.ndim != 2 or kintree.shape[0] != 2:
    raise ValueError(f"{path}: field 'kintree_table' should have shape [2, J], found {list(kintree.shape)}")
  if kintree.shape[1] != NUM_SMPL_JOINTS:
    raise ValueError(f"{path}: expected an SMPL model with {NUM_SMPL_JOINTS} joints, found "
                     f"{kintree.shape[1]} in 'kintree_table' (SMPL-H and SMPL-X files are not supported)")
  # The root's parent is stored as uint32 max (4294967295); every other entry is a joint index.
  parents = np.where(kintree[0] >= NUM_SMPL_JOINTS, -1, kintree[0]).astype(np.int32)
  posedirs = arrays["posedirs"]
  if posedirs.ndim == 2:  # smplx-style npz may store [P, V*3]
    posedirs = posedirs.reshape(-1, num_verts, 3).transpose(1, 2, 0)
  regressors = {}
  for key, name in _REGRESSOR_KEYS.items():
    if key in arrays:
      regressor = arrays[key]
      regressors[name] = regressor.T if regressor.shape[0] == num_verts else regressor
  return BodyModel(
      v_template=arrays["v_template"], shapedirs=arrays["shapedirs"], posedirs=posedirs,
      J_regressor=arrays["J_regressor"], weights=arrays["weights"], parents=parents,
      faces=arrays["f"].astype(np.int32), regressors=regressors, source=path)


def _keep_betas(model, num_betas):
  if num_betas > model.num_betas:
    raise ValueError(f"{model.source}: field 'shapedirs' has {model.num_betas} shape components, "
                     f"{num_betas} were requested")
  if num_betas == model.num_betas:
    return model
  return _replace(model, shapedirs=model.shapedirs[:, :, :num_betas])


def _with_extra_regressors(model, regressors):
  if not regressors:
    return model
  extra = {name: np.load(value, allow_pickle=False) if isinstance(value, (str, os.PathLike))
           else np.asarray(value) for name, value in regressors.items()}
  return _replace(model, regressors={**model.regressors, **extra})


def _replace(model, **changes):
  return dataclasses.replace(model, **changes)


def _require_keys(data, keys, path):
  missing = [key for key in keys if key not in data]
  if missing:
    raise ValueError(f"{path}: not a body-model file this reader knows: missing key(s) "
                     f"{missing}; found {sorted(data)}")


def _to_array(value, path, key):
  """Dense float/int ndarray from an array, a sparse matrix or an unpickled chumpy object."""
  if isinstance(value, safe_pickle.PickledSparse):
    value = value.to_scipy(path, key)
  if scipy.sparse.issparse(value):
    value = value.toarray()
  if isinstance(value, safe_pickle.PickledChumpy):
    value = value.to_array(path, key)
  array = np.asarray(value)
  if array.dtype == object:
    raise ValueError(f"{path}: field '{key}' should be a numeric array, found objects")
  return array
