"""Reading a raw dataset's annotation files, with errors that name the file and the field."""

import json
import os

import h5py
import scipy.io


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
    FileNotFoundError or ValueError naming the file and the field.
  """
  if not os.path.isfile(path):
    raise FileNotFoundError(f"annotation file not found: {path}")
  cells = []
  try:
    if h5py.is_hdf5(path):
      with h5py.File(path, "r") as f:
        # h5py holds MATLAB arrays with the axes reversed; cells would be object references.
        cells = [k for k in fields if k in f and f[k].dtype == h5py.ref_dtype]
        data = {k: f[k][()].T for k in fields if k in f and k not in cells}
    else:
      data = scipy.io.loadmat(path, variable_names=fields, **loadmat_args)
  except (OSError, ValueError, TypeError, IndexError, NotImplementedError,
          scipy.io.matlab.MatReadError) as e:
    raise ValueError(f"{path}: not a readable MATLAB file ({type(e).__name__}: {e})") from e
  for k in fields:
    if k in cells:
      raise ValueError(f"{path}: field '{k}' is a cell array in a MATLAB v7.3 file; save it "
                       "as v7 (save -v7) to read it")
    if k not in data:
      found = sorted(k for k in data if not k.startswith("__"))
      raise ValueError(f"{path}: field '{k}' is missing (found: {', '.join(found) or 'none'})")
  return data


def load_json(path):
  """Parsed JSON; FileNotFoundError or ValueError naming the file and the position."""
  if not os.path.isfile(path):
    raise FileNotFoundError(f"annotation file not found: {path}")
  with open(path, encoding="utf-8") as f:
    try:
      return json.load(f)
    except json.JSONDecodeError as error:
      raise ValueError(f"{path}: not valid JSON ({error})") from error

