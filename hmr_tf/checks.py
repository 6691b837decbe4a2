"""Checks of data that comes from files: the error they raise, its wording, and the size limits.

Every reader checks what a file declares (array shapes, byte counts, frame counts, image sizes)
against the limits here before it allocates memory for it, and checks each field with `array`,
whose one message style names the file and the field:

  x.npz: expected pose of shape [72], found [69] float64
"""

import math
import numbers

import numpy as np

# One array of a file. SMPL v1.1.0's 300-beta shapedirs is 50 MB, an AMASS sequence ~200 MB.
MAX_ARRAY_BYTES = 1 << 30
# Everything read from one file together (all members of an .npz, all arrays of a pickle).
MAX_FILE_BYTES = 2 << 30
# A source image. The datasets' largest are 2048² (MPI-INF-3DHP); 8192² decodes to 200 MB.
MAX_IMAGE_PIXELS = 8192 * 8192

_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float: never text, objects or records


class BadInput(ValueError):
  """A file or record that cannot be used. The message names the file, the field and what was
  expected. Converters' --skip_bad counts these, and only these, as bad input: any other
  exception is a bug and stops the run."""


class MissingFile(BadInput, FileNotFoundError):
  """A file that a dataset's annotations name (an image) is absent: bad input that is also a
  FileNotFoundError."""


def array(value, shape, name, where=None, dtype=np.float64, integer=False, finite=False):
  """`value` as a numeric array of `shape`; BadInput naming `where` and `name` otherwise.

  Args:
    value: array-like. Text and records are refused, never parsed ("1.5" is not 1.5); an object
      array is taken (as float64) only if every element is a number, as some pickled
      annotations store them.
    shape: the expected shape, or None for any. Each entry is an int, a str naming a size
      that may be anything (shown in the message, e.g. "N"), or a tuple of allowed ints.
    name: the field, e.g. "pose" or "smpl.body_pose".
    where: the file (and entry) the value comes from; None where there is no file.
    dtype: the dtype to return, or None to keep the value's own (numeric) dtype.
    integer: also require an integer dtype.
    finite: also require every value to be finite.

  Returns:
    The array, of `dtype` where one is given.
  """
  prefix = f"{where}: " if where else ""
  wanted = f"{name} of shape {format_shape(shape)}" if shape is not None else name
  try:
    found = np.asarray(value)
  except (TypeError, ValueError) as error:  # ragged nested lists
    raise BadInput(f"{prefix}expected {wanted}, found a value that is not an array "
                   f"({error})") from None
  if found.dtype.kind == "O" and all(isinstance(x, numbers.Real) for x in found.flat):
    found = found.astype(np.float64)
  kinds = "iu" if integer else _NUMERIC_KINDS
  if found.dtype.kind not in kinds:
    raise BadInput(f"{prefix}expected {wanted} and {'an integer' if integer else 'a numeric'} "
                   f"dtype, found {list(found.shape)} {_dtype_name(found.dtype)}")
  if shape is not None and not _matches(found.shape, shape):
    raise BadInput(f"{prefix}expected {wanted}, found {list(found.shape)}")
  if dtype is not None:
    found = found.astype(dtype, copy=False)
  if finite and found.dtype.kind == "f" and not np.all(np.isfinite(found)):
    bad = int(np.size(found) - np.count_nonzero(np.isfinite(found)))
    raise BadInput(f"{prefix}expected {name} to be finite, found {bad} NaN or infinite values")
  return found


def indices(value, shape, count, name, where=None):
  """An integer array of `shape` whose entries index `count` things: each in [0, count)."""
  found = array(value, shape, name, where, dtype=None, integer=True)
  if found.size and (found.min() < 0 or found.max() >= count):
    prefix = f"{where}: " if where else ""
    raise BadInput(f"{prefix}expected {name} to index [0, {count}), found indices from "
                   f"{found.min()} to {found.max()}")
  return found


def format_shape(shape):
  """(None-free) shape spec as written in messages: ("N", 3, (2, 3)) -> "[N, 3, 2 or 3]"."""
  return "[" + ", ".join(" or ".join(map(str, s)) if isinstance(s, tuple) else str(s)
                         for s in shape) + "]"


def declared_size(size, what, where, limit=MAX_ARRAY_BYTES, unit="bytes"):
  """Refuses a size that a file declares, before anything of that size is allocated.

  Args:
    size: the amount the declaration would take, in `unit` (a Python int: no overflow).
    what: what declares it, e.g. "field 'poses': an array of shape [10000000000] float64".
    where: the file; None where the caller adds it.
    limit: the largest allowed, one of the limits above.
    unit: "bytes", or what else `size` counts (e.g. "pixels").
  """
  if size > limit:
    prefix = f"{where}: " if where else ""
    raise BadInput(f"{prefix}{what} declares {_amount(size, unit)}, more than the limit of "
                   f"{_amount(limit, unit)} (hmr_tf.checks)")


def nbytes(shape, itemsize):
  """Bytes of an array of `shape` with items of `itemsize` bytes, as an exact Python int."""
  return math.prod(int(s) for s in shape) * int(itemsize)


def _matches(found, shape):
  return len(found) == len(shape) and all(
      isinstance(want, str) or (want == size if isinstance(want, int) else size in want)
      for want, size in zip(shape, found))


def _dtype_name(dtype):
  kind = {"U": "text", "S": "bytes", "O": "objects", "V": "records", "c": "complex numbers",
          "M": "dates", "m": "time spans"}.get(dtype.kind)
  return f"{kind} ({dtype.str})" if kind else str(dtype)


def _amount(size, unit):
  if unit != "bytes":
    return f"{size:,.0f} {unit}"
  for name, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
    if size >= factor:
      return f"{size / factor:.3g} {name}"
  return f"{size} bytes"
