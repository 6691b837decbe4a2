"""Reading a raw dataset's annotation files, with errors that name the file and the field.

Unusable files raise hmr_tf.checks.BadInput; an absent one FileNotFoundError.
"""

import io
import json
import os

import h5py
import scipy.io

from hmr_tf import array_files
from hmr_tf import checks


def find(input_dir, candidates, what):
  """The first of `candidates` under input_dir that exists (folders end with a /).

  Raises:
    FileNotFoundError listing every place looked in.
  """
  for candidate in candidates:
    path = os.path.join(input_dir, candidate)
    if os.path.exists(path):
      return os.path.normpath(path)
  raise FileNotFoundError(f"no {what} in {input_dir} (looked for: {', '.join(candidates)})")


def load_mat(path, fields, **loadmat_args):
  """The named fields of a MATLAB file, v5 or v7.3 (HDF5), in MATLAB's dimension order.

  Cells (v5 only) come back as object arrays; `loadmat_args` go to scipy.io.loadmat (v5).

  Raises:
    FileNotFoundError, or checks.BadInput naming the file and the field.
  """
  if not os.path.isfile(path):
    raise FileNotFoundError(f"annotation file not found: {path}")
  try:
    if h5py.is_hdf5(path):
      data = _load_mat_v73(path, fields)
    else:
      # Read from memory, so that no size the file declares is allocated beyond its bytes.
      checks.declared_size(os.path.getsize(path), "the file", path, limit=checks.MAX_FILE_BYTES)
      with open(path, "rb") as f:
        data = scipy.io.loadmat(io.BytesIO(f.read()), variable_names=fields, **loadmat_args)
  except checks.BadInput:
    raise
  except (OSError, ValueError, TypeError, IndexError, NotImplementedError, MemoryError,
          scipy.io.matlab.MatReadError) as e:  # MemoryError: a compressed variable too large
    raise checks.BadInput(f"{path}: not a readable MATLAB file ({type(e).__name__}: {e})") from e
  for k in fields:
    if k not in data:
      found = sorted(k for k in data if not k.startswith("__"))
      raise checks.BadInput(f"{path}: field '{k}' is missing (found: "
                            f"{', '.join(found) or 'none'})")
  return data


def _load_mat_v73(path, fields):
  """The named arrays of a MATLAB v7.3 (HDF5) file; cells and structs are refused."""
  with h5py.File(path, "r") as f:
    names = list(f)  # link names only: no link is followed
    data = {}
    for k in fields:
      if k not in names:
        continue
      dataset = array_files.h5_dataset(f, k, path)
      if dataset.dtype == h5py.ref_dtype:  # a cell: object references
        raise checks.BadInput(f"{path}: field '{k}' is a cell array in a MATLAB v7.3 file; "
                              "save it as v7 (save -v7) to read it")
      data[k] = dataset[()].T  # h5py holds MATLAB arrays with the axes reversed
  return data


def load_json(path):
  """Parsed JSON; FileNotFoundError, or checks.BadInput naming the file and the position."""
  if not os.path.isfile(path):
    raise FileNotFoundError(f"annotation file not found: {path}")
  with open(path, encoding="utf-8") as f:
    try:
      return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
      raise checks.BadInput(f"{path}: not valid UTF-8 JSON ({error})") from None

