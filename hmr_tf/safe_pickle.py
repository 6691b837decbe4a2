"""Unpickling that constructs data and never runs code from the file.

Body-model pickles (SMPL v1.0.0 holds chumpy `Ch` objects and a scipy.sparse J_regressor) and
annotation pickles (3DPW sequence files) only need numpy arrays, sparse matrices and builtin
containers. The unpickler here resolves exactly those globals; chumpy classes become
`PickledChumpy` (their state's 'x' is the array) and sparse matrices become `PickledSparse`, so
neither chumpy nor a particular scipy version is needed. Any other global, such as os.system,
raises `pickle.UnpicklingError` naming the file and the refused global.
"""

import io
import pickle

import numpy as np
import scipy.sparse


class PickledChumpy:
  """Stands in for any chumpy class: keeps the pickled state, whose 'x' is the array."""

  def __init__(self, *args, **kwargs):
    del args, kwargs
    self.state = {}

  def __setstate__(self, state):
    self.state = state if isinstance(state, dict) else {}

  def to_array(self, path, key):
    if "x" not in self.state:
      raise ValueError(f"{path}: field '{key}' is a chumpy expression, not a stored array; "
                       "expected a chumpy Ch with an 'x' array")
    return np.asarray(self.state["x"])


class PickledSparse:
  """Stands in for scipy.sparse matrix classes (their module paths changed across versions).

  Subclasses per storage format are made below; `kind` is "csc", "csr" or "coo".
  """

  kind = "csc"

  def __init__(self, *args, **kwargs):
    del args, kwargs
    self.state = {}

  def __setstate__(self, state):
    self.state = state

  def to_scipy(self, path, key):
    state = self.state
    shape = state.get("_shape", state.get("shape"))
    try:
      if self.kind == "coo":
        return scipy.sparse.coo_matrix((state["data"], (state["row"], state["col"])), shape=shape)
      matrix = scipy.sparse.csr_matrix if self.kind == "csr" else scipy.sparse.csc_matrix
      return matrix((state["data"], state["indices"], state["indptr"]), shape=shape)
    except (KeyError, TypeError, ValueError) as e:
      raise ValueError(f"{path}: field '{key}' is a sparse matrix that could not be read: {e}") from e


def _reconstructor(cls, base, state):
  """copyreg._reconstructor, limited to the stand-in classes above."""
  del base, state
  if not (isinstance(cls, type) and issubclass(cls, (PickledChumpy, PickledSparse))):
    raise pickle.UnpicklingError(f"refusing to reconstruct {cls!r}")
  return cls()


def _latin1_encode(text, encoding="latin1"):
  """_codecs.encode as Python 3 uses it to store bytes in protocol-2 pickles (latin1 only)."""
  if encoding not in ("latin1", "latin-1"):
    raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
  return text.encode("latin1")


_SAFE_GLOBALS = {
    ("copyreg", "_reconstructor"): _reconstructor,
    ("_codecs", "encode"): _latin1_encode,
    ("builtins", "object"): object,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("collections", "OrderedDict"): dict,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}
for _core in ("numpy.core", "numpy._core"):
  _SAFE_GLOBALS[(_core + ".multiarray", "_reconstruct")] = np._core.multiarray._reconstruct  # pylint: disable=protected-access
  _SAFE_GLOBALS[(_core + ".multiarray", "scalar")] = np._core.multiarray.scalar  # pylint: disable=protected-access
  _SAFE_GLOBALS[(_core + ".numeric", "_frombuffer")] = np._core.numeric._frombuffer  # pylint: disable=protected-access
# Python-2 pickles (and Python 3's protocol 2) name these modules the old way.
_PYTHON2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}
_SPARSE_CLASSES = {
    f"{kind}_{suffix}": type(f"Pickled{kind.capitalize()}", (PickledSparse,), {"kind": kind})
    for kind in ("csc", "csr", "coo") for suffix in ("matrix", "array")}


class _RestrictedUnpickler(pickle.Unpickler):
  """Constructs arrays and nothing else (see the module docstring)."""

  def __init__(self, file, path):
    super().__init__(file, encoding="latin1")  # Python-2 pickles: numpy needs latin1 bytes
    self._path = path

  def find_class(self, module, name):
    module = _PYTHON2_MODULES.get(module, module)
    if (module, name) in _SAFE_GLOBALS:
      return _SAFE_GLOBALS[(module, name)]
    if module == "chumpy" or module.startswith("chumpy."):
      return PickledChumpy
    if module.startswith("scipy.sparse") and name in _SPARSE_CLASSES:
      return _SPARSE_CLASSES[name]
    raise pickle.UnpicklingError(
        f"{self._path}: refusing to load '{module}.{name}': a pickle read here may only hold "
        "numpy arrays, scipy.sparse matrices, chumpy arrays and builtin containers")


def load(file, path="<file>"):
  """Unpickles from an open binary file; `path` names the file in error messages."""
  return _RestrictedUnpickler(file, path).load()


def loads(data: bytes, path="<bytes>"):
  """Unpickles from bytes; `path` names the source in error messages."""
  return _RestrictedUnpickler(io.BytesIO(data), path).load()
