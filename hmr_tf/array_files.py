"""Arrays from .npy, .npz and HDF5 files, with every declared size checked before allocating.

np.load trusts a file: an .npz member's header may declare any shape (a 2 MB archive can unpack
to gigabytes), and an object member is a pickle. Here each member's .npy header is read first
(the project's one header reader), its dtype must be plain data (numbers, bools or text), and
its declared size must match the archive entry's and stay under checks.MAX_ARRAY_BYTES (all
members together under checks.MAX_FILE_BYTES) before memory is allocated for it. Object members
are read only where a format needs them (mmhuman3d's HumanData), with hmr_tf.safe_pickle.

An HDF5 dataset is read only if it is an array stored in the file itself: external storage,
virtual datasets and links to other files would make h5py read another file.
"""

import contextlib
import os
import zipfile
import zlib

import numpy as np

from hmr_tf import checks
from hmr_tf import safe_pickle

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}
_PLAIN_KINDS = "biufUS"  # bool, integers, floats, text
_CHUNK = 1 << 24  # bytes read at a time into an allocated array
# What a damaged or truncated file raises from zipfile, zlib or a short read.
_READ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error,
                NotImplementedError)


def read_npy_header(f, where):
  """(shape, fortran_order, dtype) from an .npy stream positioned at its start.

  Versions 1.0 and 2.0 are read (3.0 only differs for record fields, which are refused).
  Raises BadInput naming `where`.
  """
  try:
    version = np.lib.format.read_magic(f)
    if version not in _HEADER_READERS:
      raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
    return _HEADER_READERS[version](f)
  except (ValueError, EOFError, OSError, SyntaxError) as error:
    raise checks.BadInput(f"{where}: not a readable .npy array ({error})") from None


def load_npy(path):
  """The array of an .npy file (no objects)."""
  path = os.fspath(path)
  with open(path, "rb") as f:
    return _read_array(f, os.path.getsize(path), path, None, False, [0])


def npz_keys(path):
  """The array names of an .npz file, without reading any array."""
  with _open_zip(path) as archive:
    return [_key(info.filename) for info in archive.infolist()]


def npz_header(path, key):
  """(shape, dtype) of array `key` of an .npz file, from its header alone."""
  with _open_zip(path) as archive, _open_member(archive, path, _member(archive, path, key)) as f:
    shape, _, dtype = read_npy_header(f, f"{path}: field '{key}'")
  return shape, dtype


def load_npz(path, keys=None, allow_objects=False):
  """{name: array} of an .npz file, or of the listed `keys` that it holds.

  Args:
    path: the .npz file.
    keys: names to read (missing ones are left out), or None for every array.
    allow_objects: read object arrays (pickles) with safe_pickle; refused otherwise.

  Raises:
    FileNotFoundError, or BadInput naming the file (and the member) for a damaged archive, a
    header that disagrees with its entry, a dtype that is not plain data, or a size over the
    limits.
  """
  arrays = {}
  total = [0]  # bytes declared by the members read so far
  with _open_zip(path) as archive:
    for info in archive.infolist():
      name = _key(info.filename)
      if keys is not None and name not in keys:
        continue
      with _open_member(archive, path, info) as f:
        arrays[name] = _read_array(f, info.file_size, path, info.filename, allow_objects, total)
  return arrays


def h5_dataset(h5file, key, path):
  """The h5py Dataset `key` of an open HDF5 file, if it is an array stored in the file itself.

  Raises BadInput naming the file and the field for a group, a link, external storage, a
  virtual dataset, a dtype that is not plain numbers, or a size over the limits; KeyError
  where there is no `key`.
  """
  import h5py  # pylint: disable=import-outside-toplevel  (only HDF5 readers need it)
  link = h5file.get(key, getlink=True)
  if link is None:
    raise KeyError(key)
  where = f"{path}: field '{key}'"
  if not isinstance(link, h5py.HardLink):
    raise checks.BadInput(f"{where} is an HDF5 {type(link).__name__}, not an array stored in "
                          "the file (links are not followed)")
  dataset = h5file[key]
  if not isinstance(dataset, h5py.Dataset):
    raise checks.BadInput(f"{where} is a group (a MATLAB struct or cell), not an array")
  if dataset.external or dataset.is_virtual:
    raise checks.BadInput(f"{where} keeps its data in other files (HDF5 external storage or "
                          "a virtual dataset): refused, it would make this reader open them")
  if dataset.dtype.kind not in "biuf" and dataset.dtype != h5py.ref_dtype:
    raise checks.BadInput(f"{where}: expected numbers, found HDF5 type {dataset.dtype}")
  checks.declared_size(checks.nbytes(dataset.shape or (), dataset.dtype.itemsize),
                       f"field '{key}' (shape {list(dataset.shape or ())})", path)
  return dataset


def _key(member_name):
  return member_name[:-len(".npy")] if member_name.endswith(".npy") else member_name


@contextlib.contextmanager
def _open_zip(path):
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"no .npz file at {path}")
  try:
    archive = zipfile.ZipFile(path)
  except _READ_ERRORS as error:
    raise checks.BadInput(f"{path}: not a readable .npz file ({error})") from None
  with archive:
    yield archive


@contextlib.contextmanager
def _open_member(archive, path, info):
  """Member `info` of an open archive; a damaged archive raises BadInput naming both."""
  try:
    with archive.open(info) as f:
      yield f
  except checks.BadInput:
    raise
  except _READ_ERRORS as error:
    raise checks.BadInput(f"{path}: not a readable .npz file (member {info.filename}: "
                          f"{error})") from None


def _member(archive, path, key):
  for info in archive.infolist():
    if _key(info.filename) == key:
      return info
  raise checks.BadInput(f"{path}: no field '{key}' (found: "
                        f"{', '.join(_key(i.filename) for i in archive.infolist())})")


def _read_array(f, entry_size, path, member, allow_objects, total):
  """One .npy stream of `entry_size` bytes (an .npz `member`, or None for an .npy file); adds
  its bytes to total[0], checked."""
  where = f"{path}: field '{_key(member)}'" if member else path
  shape, fortran, dtype = read_npy_header(f, where)
  data_size = entry_size - f.tell()
  if dtype.hasobject:
    if not allow_objects:
      raise checks.BadInput(f"{where}: holds Python objects (a pickle); expected numbers or "
                            "text")
    size = data_size
  else:
    if (dtype.kind not in _PLAIN_KINDS or dtype.fields is not None
        or dtype.subdtype is not None or not dtype.itemsize):
      raise checks.BadInput(f"{where}: expected numbers or text, found dtype {dtype}")
    size = checks.nbytes(shape, dtype.itemsize)
  checks.declared_size(size, f"an array of shape {list(shape)} {dtype}", where)
  total[0] += size
  checks.declared_size(total[0], "all its arrays together", path, limit=checks.MAX_FILE_BYTES)
  if dtype.hasobject:
    array = safe_pickle.loads(_read_exactly(f, size, where), path,
                              _key(member) if member else "")
    if not isinstance(array, np.ndarray) or array.shape != shape or not array.dtype.hasobject:
      raise checks.BadInput(f"{where}: the header declares an object array of shape "
                            f"{list(shape)}; its pickle holds something else")
    return array
  if size != data_size:
    raise checks.BadInput(f"{where}: the header declares {list(shape)} {dtype} ({size} bytes), "
                          f"the file holds {data_size} bytes after it")
  flat = np.empty(size // dtype.itemsize, dtype)
  view = flat.view(np.uint8)
  for start in range(0, size, _CHUNK):
    chunk = _read_exactly(f, min(_CHUNK, size - start), where)
    view[start:start + len(chunk)] = np.frombuffer(chunk, np.uint8)
  return flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)


def _read_exactly(f, size, where):
  data = f.read(size)
  if len(data) != size:
    raise checks.BadInput(f"{where}: the file ends {size - len(data)} bytes early")
  return data
