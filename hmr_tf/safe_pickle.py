"""Unpickling that builds data and never lets the file steer the process.

Body-model pickles (SMPL v1.0.0 holds chumpy `Ch` objects and a scipy.sparse J_regressor) and
annotation pickles (3DPW sequence files, mosh files, the object members of mmhuman3d's HumanData
.npz) need only numpy arrays, sparse matrices and builtin containers. Reading one here:

  * resolves only the globals listed in _Unpickler.globals, each handed out as a `_Global` that
    calls our own function and refuses a BUILD (no opcode can rewrite a loader's defaults);
    chumpy classes become `PickledChumpy` and scipy.sparse classes `PickledSparse`, stand-ins
    that only keep their state, so neither chumpy nor a scipy version is needed;
  * builds every array itself from checked parts instead of handing file state to numpy's
    reconstructors: the dtype must be one of _DTYPE_CODES with exactly the state numpy itself
    pickles for it (a dtype whose object flags were cleared is refused), the shape's size must
    match the data's byte length, and the bytes must stay under checks.MAX_ARRAY_BYTES per array
    and checks.MAX_FILE_BYTES per file, checked before anything is allocated. Object arrays are
    built only from lists of objects that were themselves unpickled here;
  * scans the opcodes first (pickletools), so that a length the file declares is checked
    against the bytes it has before the C unpickler allocates it.

Every failure raises `BadPickle` (a checks.BadInput and a pickle.UnpicklingError) naming the
file, and the field where an array is refused: a refused global, a malformed or truncated
pickle, a size over the limits.
"""

import io
import os
import pickle
import pickletools
import re

import numpy as np

from hmr_tf import checks

MAX_DEPTH = 64  # nesting of containers in one pickle; real files nest 4 deep


class BadPickle(checks.BadInput, pickle.UnpicklingError):
  """A pickle that is refused or cannot be read; the message names the file."""


class PickledChumpy:
  """Stands in for any chumpy class: keeps the pickled state, whose 'x' is the array."""

  def __init__(self, *args):
    del args
    self.state = {}

  def __setstate__(self, state):
    self.state = state if isinstance(state, dict) else {}

  def to_array(self, path, key):
    if "x" not in self.state:
      raise checks.BadInput(f"{path}: field '{key}' is a chumpy expression, not a stored "
                            "array; expected a chumpy Ch with an 'x' array")
    return self.state["x"]


class PickledSparse:
  """Stands in for scipy.sparse matrix classes (their module paths changed across versions).

  Subclasses per storage format are made below; `kind` is "csc", "csr" or "coo". The state is
  kept as pickled and checked in full by `to_dense` before any entry is written.
  """

  kind = "csc"

  def __init__(self, *args):
    del args
    self.state = None

  def __setstate__(self, state):
    self.state = state

  def to_dense(self, path, key):
    """[rows, cols] float64; BadInput naming the file and the field if the state is not a
    well-formed matrix (every index in range, indptr monotone, lengths consistent)."""
    where = f"{path}: field '{key}' ({self.kind} sparse matrix)"
    state = self.state
    if not isinstance(state, dict):
      raise checks.BadInput(f"{where}: expected a dict state, found {type(state).__name__}")
    shape = state.get("_shape", state.get("shape"))
    if not (isinstance(shape, tuple) and len(shape) == 2 and all(
        isinstance(n, (int, np.integer)) and n >= 0 for n in shape)):
      raise checks.BadInput(f"{where}: expected a shape of two sizes, found {shape!r}")
    rows, cols = int(shape[0]), int(shape[1])
    checks.declared_size(checks.nbytes(shape, 8), f"field '{key}' (shape {list(shape)})", path)
    fields = ("row", "col") if self.kind == "coo" else ("indices", "indptr")
    missing = [f for f in ("data",) + fields if f not in state]
    if missing:
      raise checks.BadInput(f"{where}: missing {missing}; found {sorted(map(str, state))}")
    data = checks.array(state["data"], ("nnz",), "data", where)
    index = {f: checks.array(state[f], ("N",), f, where, dtype=np.int64, integer=True)
             for f in fields}
    if self.kind == "coo":
      row, col = index["row"], index["col"]
    else:
      major, minor = (cols, rows) if self.kind == "csc" else (rows, cols)
      indptr, indices = index["indptr"], index["indices"]
      if (len(indptr) != major + 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0)
          or indptr[-1] != len(indices)):
        raise checks.BadInput(f"{where}: expected indptr of {major + 1} non-decreasing "
                              f"offsets from 0 to {len(indices)}")
      starts = np.repeat(np.arange(major), np.diff(indptr))
      row, col = (indices, starts) if self.kind == "csc" else (starts, indices)
    if not len(data) == len(row) == len(col):
      raise checks.BadInput(f"{where}: data, and the row and column of each entry, differ in "
                            f"length ({len(data)}, {len(row)}, {len(col)})")
    for name, values, size in (("row", row, rows), ("column", col, cols)):
      if values.size and (values.min() < 0 or values.max() >= size):
        raise checks.BadInput(f"{where}: a {name} index is outside [0, {size})")
    dense = np.zeros((rows, cols))
    np.add.at(dense, (row, col), data)  # repeated entries add up, as in scipy
    return dense


class _Refused(pickle.UnpicklingError):
  """A part of a pickle refused on purpose; the message says why, `field` where it is."""

  def __init__(self, message, field=""):
    super().__init__(message)
    self.field = field


class _PickledDtype:
  """A numpy dtype being unpickled: the type code, then its state, each checked. A refusal is
  kept in `error` and reported with the field of the array that uses it."""

  __hash__ = None  # stand-ins cannot be dict keys or set members

  def __init__(self, code):
    self.dtype, self.error, self.built = None, None, False
    if isinstance(code, str) and re.fullmatch(_DTYPE_CODES, code):
      self.dtype = np.dtype(code)
    else:
      self.error = (f"refusing dtype {code!r}: only numbers, bools, text and object arrays of "
                    "unpickled values may be stored")

  def __setstate__(self, state):
    if self.built:
      raise _Refused("refusing to set a dtype's state twice")
    self.built = True
    if self.error:
      return
    # numpy's own state for this code (in the byte order the file gives) is the only one taken.
    valid = isinstance(state, tuple) and len(state) == 8
    dtype = self.dtype.newbyteorder(state[1]) if valid and state[1] in ("<", ">") else self.dtype
    if not valid or dtype.__reduce__()[2] != state:
      self.error = (f"refusing dtype state {state!r} for {self.dtype}: numpy writes "
                    f"{dtype.__reduce__()[2]!r}")
    else:
      self.dtype = dtype


class _PickledArray:
  """An ndarray being unpickled: its array, or `error` saying why it was refused (reported
  with its field once the whole pickle is read). `scalar` marks a numpy scalar."""

  __hash__ = None

  def __init__(self, loader, scalar=False):
    self.loader, self.scalar = loader, scalar
    self.array, self.error = None, None

  def build(self, data, dtype, shape, order):
    try:
      self.array = self.loader.new_array(data, dtype, shape, order)
    except (_Refused, checks.BadInput) as error:
      self.error = str(error)
    return self

  def __setstate__(self, state):
    if self.array is not None or self.error is not None:
      raise _Refused("refusing to set an array's state twice")
    if not isinstance(state, tuple) or len(state) not in (4, 5):
      self.error = "refusing an array state that is not numpy's (version, shape, dtype, " \
                   "fortran, data)"
      return
    shape, dtype, fortran, data = state[-4:]
    self.build(data, dtype, shape, "F" if fortran else "C")


class _Global:
  """A global the pickle may name: calls `function`, and cannot be given state."""

  __slots__ = ("function", "name")
  __hash__ = None

  def __init__(self, function, name):
    self.function, self.name = function, name

  def __call__(self, *args):
    return self.function(*args)

  def __setstate__(self, state):
    raise _Refused(f"refusing to set the state of '{self.name}'")


# Type codes numpy pickles for plain data: bool, integers, floats, text; 'O' (objects) only ever
# becomes an array of values unpickled here (_Unpickler.new_array).
_DTYPE_CODES = r"b1|[iu][1248]|f[248]|[US][1-9][0-9]{0,5}|O[48]?"
_SPARSE_CLASSES = {
    f"{kind}_{suffix}": type(f"Pickled{kind.capitalize()}", (PickledSparse,), {"kind": kind})
    for kind in ("csc", "csr", "coo") for suffix in ("matrix", "array")}
# Python-2 pickles (and Python 3's protocol 2) name these modules the old way.
_PYTHON2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}
_NDARRAY = object()  # what "numpy.ndarray" resolves to: an argument of _reconstruct only


class _Unpickler(pickle.Unpickler):
  """Builds data and nothing else (see the module docstring)."""

  def __init__(self, file):
    super().__init__(file, encoding="latin1")  # Python-2 pickles: numpy needs latin1 bytes
    self.total_bytes = 0
    self.globals = {
        ("copyreg", "_reconstructor"): self.reconstructor,
        ("_codecs", "encode"): _latin1_encode,
        ("builtins", "bytes"): _empty_bytes,
        ("builtins", "object"): object,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("collections", "OrderedDict"): dict,
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _dtype,
    }
    for core in ("numpy.core", "numpy._core"):
      self.globals[(core + ".multiarray", "_reconstruct")] = self.reconstruct
      self.globals[(core + ".multiarray", "scalar")] = self.scalar
      self.globals[(core + ".numeric", "_frombuffer")] = self.frombuffer

  def find_class(self, module, name):
    module = _PYTHON2_MODULES.get(module, module)
    if (module, name) in self.globals:
      return _Global(self.globals[(module, name)], f"{module}.{name}")
    # NEWOBJ needs a class: these two stand-ins are the only classes handed out.
    if module == "chumpy" or module.startswith("chumpy."):
      return PickledChumpy
    if module.startswith("scipy.sparse") and name in _SPARSE_CLASSES:
      return _SPARSE_CLASSES[name]
    raise _Refused(f"refusing to load '{module}.{name}': a pickle read here may only hold "
                   "numpy arrays, scipy.sparse matrices, chumpy arrays and builtin containers")

  def persistent_load(self, pid):
    raise _Refused("refusing a persistent id")

  # ---------------------------------------------------------------- the allowed globals

  def reconstructor(self, cls, base, state):
    """copyreg._reconstructor, limited to the stand-in classes."""
    del base, state
    if not (isinstance(cls, type) and issubclass(cls, (PickledChumpy, PickledSparse))):
      raise _Refused(f"refusing to reconstruct {cls!r}")
    return cls()

  def reconstruct(self, cls, shape, typecode):
    """numpy's _reconstruct: an empty stand-in that the following BUILD fills."""
    del shape, typecode  # numpy allocates this shape; the BUILD state sets the real one
    if not (isinstance(cls, _Global) and cls.function is _NDARRAY):
      raise _Refused("refusing to reconstruct anything but numpy.ndarray")
    return _PickledArray(self)

  def frombuffer(self, buffer, dtype, shape, order):
    """numpy's _frombuffer (protocol 5)."""
    return _PickledArray(self).build(buffer, dtype, shape, order)

  def scalar(self, dtype, data):
    """numpy's scalar: one number, bool or text."""
    return _PickledArray(self, scalar=True).build(data, dtype, (), "C")

  def new_array(self, data, dtype, shape, order):
    """An ndarray from checked parts: the size is checked against the limits before anything
    is allocated, and raw bytes are never taken for object pointers."""
    if not isinstance(dtype, _PickledDtype):
      raise _Refused(f"refusing {type(dtype).__name__} as a dtype")
    if dtype.error:
      raise _Refused(dtype.error)
    dtype = dtype.dtype
    if (not isinstance(shape, tuple) or len(shape) > 32 or order not in ("C", "F") or not all(
        type(s) is int and s >= 0 for s in shape)):  # pylint: disable=unidiomatic-typecheck
      raise _Refused(f"refusing array shape {shape!r} (order {order!r})")
    size = checks.nbytes(shape, dtype.itemsize)
    what = f"an array of shape {list(shape)} {dtype}"
    checks.declared_size(size, what, None)
    checks.declared_size(self.total_bytes + size, f"{what}, with the arrays before it,", None,
                         limit=checks.MAX_FILE_BYTES)
    count = size // dtype.itemsize  # _DTYPE_CODES has no empty items
    if dtype.hasobject:
      if not isinstance(data, list) or len(data) != count:
        raise _Refused(f"refusing {what}: an object array must hold a list of {count} values")
      flat = np.empty(count, object)
      for i, value in enumerate(data):
        flat[i] = value
    else:
      if isinstance(data, str):  # Python 2's str, decoded as latin1 (see __init__)
        data = data.encode("latin1")
      if not isinstance(data, (bytes, bytearray)) or len(data) != size:
        length = len(data) if isinstance(data, (bytes, bytearray)) else type(data).__name__
        raise _Refused(f"refusing {what}: it needs {size} bytes of data, found {length}")
      flat = np.frombuffer(data, dtype, count).copy()
    self.total_bytes += size
    return flat.reshape(shape, order=order)


def _dtype(code, align=False, copy=True):
  del align, copy
  return _PickledDtype(code)


def _latin1_encode(text, encoding="latin1"):
  """_codecs.encode as Python 3 uses it to store bytes in protocol-2 pickles (latin1 only)."""
  if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
    raise _Refused(f"refusing _codecs.encode with encoding {encoding!r}")
  return text.encode("latin1")


def _empty_bytes():
  """bytes(), as Python 3 pickles b"" with protocols 0 to 2 (an empty array's data)."""
  return b""


def _resolved(value, memo, path="", depth=0):
  """`value` with every array stand-in replaced by its array (shared values stay shared);
  `path` names the field being resolved, e.g. "poses[0]" or "smpl.betas"."""
  if isinstance(value, (str, bytes, bytearray, int, float, bool, type(None))):
    return value
  key = id(value)
  if key in memo:
    return memo[key]
  if depth > MAX_DEPTH:
    raise _Refused(f"containers nested deeper than {MAX_DEPTH} (or a cycle)", path)

  def deeper(item, suffix):
    return _resolved(item, memo, f"{path}{suffix}" if path else suffix.lstrip("."), depth + 1)

  if isinstance(value, (_PickledArray, _PickledDtype)):
    if value.error or isinstance(value, _PickledDtype):
      raise _Refused(value.error or "refusing a dtype as a value: a pickle read here holds "
                     "data only", path)
    result = value.array[()] if value.scalar else value.array
    if result.dtype.hasobject:
      result = deeper(result, "")
  elif isinstance(value, np.ndarray):
    result = np.empty(value.shape, object)  # only object arrays are met here
    for index, item in np.ndenumerate(value):
      result[index] = deeper(item, f"[{', '.join(map(str, index))}]" if index else "")
  elif isinstance(value, dict):
    result = {deeper(k, ".<key>"): deeper(v, f".{k}") for k, v in value.items()}
  elif isinstance(value, (list, tuple)):
    result = type(value)(deeper(v, f"[{i}]") for i, v in enumerate(value))
  elif isinstance(value, (set, frozenset)):
    result = type(value)(deeper(v, "[]") for v in value)
  elif isinstance(value, (PickledChumpy, PickledSparse)):
    value.state, result = deeper(value.state, ""), value
  else:  # a _Global: a name of code, not data
    raise _Refused(f"refusing {type(value).__name__} as a value: a pickle read here holds data "
                   "only", path)
  memo[key] = result
  return result


def loads(data: bytes, where="<bytes>", field=""):
  """Unpickles `data`. Raises BadPickle naming `where` (the file) and the field: `field` names
  the whole pickle where it is one field of a file (an .npz member)."""
  try:
    # Every length the pickle declares is checked against the bytes it has, before the C
    # unpickler would allocate it.
    for _ in pickletools.genops(io.BytesIO(data)):
      pass
    return _resolved(_Unpickler(io.BytesIO(data)).load(), {}, field)
  except _Refused as error:
    raise BadPickle(_message(where, error.field or field, str(error))) from None
  except Exception as error:  # a corrupt pickle can raise almost anything (pickle's docs)
    raise BadPickle(_message(where, field, f"not a readable pickle of arrays "
                                           f"({type(error).__name__}: {error})")) from None


def _message(where, field, text):
  return f"{where}: " + (f"field '{field}': " if field else "") + text


def load(path):
  """Unpickles the file at `path`. Raises FileNotFoundError, or BadPickle naming the file."""
  path = os.fspath(path)
  size = os.path.getsize(path)
  checks.declared_size(size, "the file", path, limit=checks.MAX_FILE_BYTES)
  with open(path, "rb") as f:
    return loads(f.read(), path)
