"""Atomic, durable file writes: a crash or power loss leaves the old file or the new one, never
half of one."""

import contextlib
import os
import tempfile

_TEMP_PREFIX, _TEMP_SUFFIX = ".", ".tmp"  # hidden, so that no reader lists a temp file


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
  """Yields a file object whose contents replace `path` only if the block succeeds.

  The data goes to a new temporary file in the same directory (so the final rename is atomic
  on POSIX) and is committed (see commit). On any exception the temporary file is removed and
  `path` is untouched.
  """
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, temp_path = new_temp_file(directory, os.path.basename(path))
  try:
    with os.fdopen(fd, mode, closefd=False) as f:
      yield f
    commit(fd, temp_path, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.remove(temp_path)
    raise
  finally:
    os.close(fd)


def new_temp_file(directory, name):
  """(fd, path) of a new, empty, uniquely named hidden file for `name` in `directory`.

  mkstemp creates it exclusively (O_EXCL, mode 0600), so no other writer's file and no planted
  symlink is ever opened, truncated or followed.
  """
  return tempfile.mkstemp(dir=directory, prefix=f"{_TEMP_PREFIX}{name}.", suffix=_TEMP_SUFFIX)


def commit(fd, temp_path, path):
  """Makes what was written to temp_path (through any handle) durable as `path`.

  fsyncs the data through `fd` (new_temp_file's), checks that temp_path is still that file,
  renames it into place and fsyncs the directory, so that after a power loss `path` is the old
  file or the whole new one. Closes nothing.

  Raises:
    FileExistsError: temp_path was replaced by another file while it was written.
  """
  os.fsync(fd)
  if not os.path.samestat(os.fstat(fd), os.lstat(temp_path)):
    raise FileExistsError(f"{temp_path} was replaced by another file while it was written")
  os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 -> the mode a plain open() would give
  os.replace(temp_path, path)
  fsync_dir(os.path.dirname(os.path.abspath(path)))


def fsync_dir(directory):
  """Makes the directory's entries (a rename, a new file) durable."""
  fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


def remove_temp_files(directory):
  """Removes the temp files that killed writers left in `directory`. Call it only where no
  other writer can be at work (e.g. holding hmr_tf.data.output_dir.locked)."""
  for name in os.listdir(directory):
    if name.startswith(_TEMP_PREFIX) and name.endswith(_TEMP_SUFFIX):
      with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(directory, name))


def _umask():
  mask = os.umask(0)  # the only way to read it is to set it
  os.umask(mask)
  return mask
