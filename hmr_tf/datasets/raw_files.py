"""Reading a raw dataset's annotation files, with errors that name the file and the field."""

import json
import os

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


def load_mat(path, variable, **loadmat_args):
  """`variable` from a MATLAB v5 file; FileNotFoundError or ValueError naming file and field."""
  if not os.path.isfile(path):
    raise FileNotFoundError(f"annotation file not found: {path}")
  try:
    contents = scipy.io.loadmat(path, **loadmat_args)
  except (ValueError, TypeError, OSError, NotImplementedError) as error:
    # scipy reads MAT v4-v7.2; v7.3 files are HDF5 and raise NotImplementedError.
    raise ValueError(f"{path}: not a readable MATLAB file ({error})") from error
  if variable not in contents:
    found = sorted(k for k in contents if not k.startswith("__"))
    raise ValueError(f"{path}: no variable '{variable}' (found: {', '.join(found) or 'none'})")
  return contents[variable]


def load_json(path):
  """Parsed JSON; FileNotFoundError or ValueError naming the file and the position."""
  if not os.path.isfile(path):
    raise FileNotFoundError(f"annotation file not found: {path}")
  with open(path, encoding="utf-8") as f:
    try:
      return json.load(f)
    except json.JSONDecodeError as error:
      raise ValueError(f"{path}: not valid JSON ({error})") from error

