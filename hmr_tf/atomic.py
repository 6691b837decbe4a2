"""Atomic file writes: a crash leaves either the old file or the new one, never half of one."""

import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
  """Yields a file object whose contents replace `path` only if the block succeeds.

  The data goes to a temporary file in the same directory (so the final rename is atomic on
  POSIX), is flushed and fsync'ed, then renamed over `path`. On any exception the temporary file
  is removed and `path` is untouched.
  """
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp_path = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                                  suffix=".tmp")
  try:
    with os.fdopen(fd, mode) as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    # mkstemp makes the file private (0600); give it the mode a plain open() would have.
    os.chmod(tmp_path, 0o666 & ~_umask())
    os.replace(tmp_path, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.remove(tmp_path)
    raise


def _umask():
  mask = os.umask(0)  # the only way to read it is to set it
  os.umask(mask)
  return mask
