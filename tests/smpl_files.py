"""Test fixtures in the official SMPL file layouts, written by the tests themselves.

SMPL files are licensed and never part of the repository, so the tests generate random arrays
in the real layouts (V = 6890 where SMPL's size matters) and write them the way the official
files are written: v1.0.0 pickles with chumpy `Ch` objects and a scipy.sparse J_regressor,
v1.1.0 pickles with 300 betas, and smplx-style .npz files.
"""

import contextlib
import pickle
import sys
import types

import numpy as np
import scipy.sparse

from hmr_tf import joints
from hmr_tf.body import BodyModel

SMPL_NUM_VERTS = 6890
SMPL_NUM_FACES = 13776
ROOT_PARENT = np.uint32(4294967295)  # how official files mark the root's parent


def random_body_model(num_verts=SMPL_NUM_VERTS, num_betas=10, seed=0, cocoplus=True):
  """A BodyModel with SMPL's layout and random, plausible arrays (float64)."""
  rng = np.random.default_rng(seed)
  num_joints = len(joints.SMPL_PARENTS)
  # Each joint regressed from 20 vertices, each vertex skinned to 4 joints (as SMPL's are).
  j_regressor = _sparse_rows(rng, num_joints, num_verts, 20)
  weights = _sparse_rows(rng, num_verts, num_joints, 4)
  regressors = {}
  if cocoplus:
    regressors["cocoplus"] = np.abs(rng.normal(size=(19, num_verts))) / num_verts
  return BodyModel(
      v_template=rng.normal(scale=0.3, size=(num_verts, 3)),
      shapedirs=rng.normal(scale=0.02, size=(num_verts, 3, num_betas)),
      posedirs=rng.normal(scale=0.01, size=(num_verts, 3, 9 * (num_joints - 1))),
      J_regressor=j_regressor, weights=weights, parents=np.array(joints.SMPL_PARENTS),
      faces=rng.integers(0, num_verts, size=(2 * num_verts - 4, 3)), regressors=regressors,
      source=f"random_body_model(seed={seed})")


def _sparse_rows(rng, rows, columns, nonzeros):
  """[rows, columns] non-negative, each row `nonzeros` random entries summing to 1."""
  picked = np.argsort(rng.random((rows, columns)), axis=1)[:, :nonzeros]
  matrix = np.zeros((rows, columns))
  np.put_along_axis(matrix, picked, rng.dirichlet(np.ones(nonzeros), size=rows), axis=1)
  return matrix


def _kintree(model):
  parents = np.asarray(model.parents).astype(np.int64)
  return np.stack([np.where(parents < 0, ROOT_PARENT, parents), np.arange(len(parents))]
                  ).astype(np.uint32)


@contextlib.contextmanager
def _fake_module_class(module_name, class_name):
  """A class that pickles as `module_name.class_name` (for chumpy, which we never install)."""
  cls = type(class_name, (), {"__module__": module_name})
  cls.__qualname__ = class_name
  created = []
  parts = module_name.split(".")
  for i in range(1, len(parts) + 1):
    name = ".".join(parts[:i])
    if name not in sys.modules:
      sys.modules[name] = types.ModuleType(name)
      created.append(name)
  previous = vars(sys.modules[module_name]).get(class_name)
  setattr(sys.modules[module_name], class_name, cls)
  try:
    yield cls
  finally:
    if previous is None:
      delattr(sys.modules[module_name], class_name)
    else:
      setattr(sys.modules[module_name], class_name, previous)
    for name in created:
      del sys.modules[name]


def _chumpy(cls, array):
  obj = cls()
  obj.__dict__.update({"x": np.asarray(array), "_dirty_vars": set(), "dterms": ("x",),
                       "_itr": None})
  return obj


def _old_scipy_sparse(cls, dense):
  """A csc matrix pickled under scipy's pre-1.8 module path, as in the 2015 SMPL files."""
  csc = scipy.sparse.csc_matrix(dense)
  obj = cls()
  obj.__dict__.update({"data": csc.data, "indices": csc.indices, "indptr": csc.indptr,
                       "_shape": csc.shape, "maxprint": 50})
  return obj


def write_smpl_v1_pkl(model, path, cocoplus=False):
  """SMPL v1.0.0 layout (and HMR's neutral_smpl_with_cocoplus_reg.pkl with cocoplus=True)."""
  with _fake_module_class("chumpy.ch", "Ch") as ch, \
       _fake_module_class("scipy.sparse.csc", "csc_matrix") as old_csc:
    data = {
        "v_template": _chumpy(ch, model.v_template),
        "shapedirs": _chumpy(ch, model.shapedirs),
        "posedirs": model.posedirs,
        "J_regressor": _old_scipy_sparse(old_csc, model.J_regressor),
        "J_regressor_prior": _old_scipy_sparse(old_csc, model.J_regressor),
        "weights": _chumpy(ch, model.weights),
        "weights_prior": model.weights,
        "kintree_table": _kintree(model),
        "f": model.faces.astype(np.uint32),
        "J": _chumpy(ch, model.J_regressor @ model.v_template),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
        "vert_sym_idxs": np.arange(model.num_vertices),
    }
    if cocoplus:
      # HMR stores it sparse as [19, V] (batch_smpl.py transposes it after reading).
      data["cocoplus_regressor"] = _old_scipy_sparse(old_csc, model.regressors["cocoplus"])
    with open(path, "wb") as f:
      pickle.dump(data, f, protocol=2)


def write_smpl_v11_pkl(model, path, total_betas=300, seed=1):
  """SMPL v1.1.0 layout: plain numpy arrays, 300 betas (the first ones are `model`'s)."""
  rng = np.random.default_rng(seed)
  extra = rng.normal(scale=0.01, size=(model.num_vertices, 3, total_betas - model.num_betas))
  data = {
      "v_template": model.v_template,
      "shapedirs": np.concatenate([model.shapedirs, extra], axis=2),
      "posedirs": model.posedirs,
      "J_regressor": scipy.sparse.csc_matrix(model.J_regressor),
      "weights": model.weights,
      "kintree_table": _kintree(model),
      "f": model.faces.astype(np.uint32),
  }
  with open(path, "wb") as f:
    pickle.dump(data, f, protocol=4)


def write_smplx_npz(model, path, total_betas=300, seed=1):
  """smplx-style SMPL_NEUTRAL.npz: the pickle's keys, dense arrays."""
  rng = np.random.default_rng(seed)
  extra = rng.normal(scale=0.01, size=(model.num_vertices, 3, total_betas - model.num_betas))
  np.savez(path, v_template=model.v_template,
           shapedirs=np.concatenate([model.shapedirs, extra], axis=2),
           posedirs=model.posedirs, J_regressor=model.J_regressor, weights=model.weights,
           kintree_table=_kintree(model), f=model.faces.astype(np.uint32))
