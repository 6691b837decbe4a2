"""An output folder that one run writes at a time, durably, and only with one set of settings.

  with outputs.locked(directory):        # a second run, in any process, gets OutputError
    with outputs.writing(directory):     # ENOSPC, EROFS, EACCES… -> OutputError naming it
      ...

The lock is fcntl.flock on <directory>/.lock, held by an open file description, so the kernel
drops it when its process dies (even by kill -9): a crash never leaves a stale lock to delete.
"""

import contextlib
import fcntl
import json
import os

import tensorflow as tf

from hmr_tf import atomic

LOCK_NAME = ".lock"
_held = {}  # real path -> [lock file descriptor, depth]: re-entrant within one process


class OutputError(Exception):
  """The output folder cannot be written as asked: another run holds it, it holds work made
  with other settings, it is full or read-only. The message names the folder and what to do."""


@contextlib.contextmanager
def writing(directory):
  """Turns the OS's and TensorFlow's write errors in the block into OutputError naming
  `directory`. Only the writing side belongs in it: a read error of the input is not this."""
  try:
    yield
  except OSError as error:
    raise OutputError(f"cannot write to {directory}: {error.strerror or error}"
                      + (f" ({error.filename})" if error.filename else "")) from error
  except tf.errors.OpError as error:  # TFRecordWriter's: "<file>; No space left on device"
    raise OutputError(f"cannot write to {directory}: {error.message}") from error


@contextlib.contextmanager
def locked(directory):
  """Holds the folder's lock for the block (creating the folder); re-entrant in a process.

  Raises:
    OutputError: another process holds it (the message gives its pid), or the folder cannot
      be written.
  """
  with writing(directory):
    os.makedirs(directory, exist_ok=True)
    key = os.path.realpath(directory)
    if key not in _held:
      # O_NOFOLLOW: a planted symlink cannot make us create or truncate another file.
      fd = os.open(os.path.join(directory, LOCK_NAME),
                   os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
      try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
      except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise OutputError(f"{directory} is being written by another run (pid {holder}); wait "
                          "for it to finish, or write to another folder") from None
      os.ftruncate(fd, 0)
      os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
      _held[key] = [fd, 0]
  _held[key][1] += 1
  try:
    yield
  finally:
    _held[key][1] -= 1
    if not _held[key][1]:
      fd, _ = _held.pop(key)
      os.close(fd)  # releases the flock; the file stays (unlinking it would race a waiter)


def check_settings(directory, path, settings, work):
  """Records `settings` at `path`, or refuses them if the work already there used others.

  Args:
    directory: the output folder, for the message.
    path: the settings record, a JSON file.
    settings: a JSON-able dict of everything that changes the output.
    work: what is already there, finished or not, made with the recorded settings, e.g.
      "'train' shards"; empty if nothing is (then an old record is simply replaced).

  Raises:
    OutputError: saying which settings differ and how to start over.
  """
  settings = json.loads(json.dumps(settings))  # tuples -> lists: compared as they are stored
  try:
    with open(path, encoding="utf-8") as f:
      recorded = json.load(f)
  except (OSError, ValueError):  # absent or damaged: unknown settings
    recorded = None
  if recorded == settings:
    return
  if work:
    if not isinstance(recorded, dict):
      what = f"no readable settings record ({path})"
    else:
      what = "; ".join(f"{key} {recorded.get(key)!r} there, {settings.get(key)!r} now"
                       for key in sorted(set(recorded) | set(settings))
                       if recorded.get(key) != settings.get(key))
    raise OutputError(f"{directory} holds {work} made with other settings: {what}. To start "
                      f"over, delete {directory}, or write to another folder")
  with atomic.atomic_write(path, "w") as f:
    json.dump(settings, f, indent=2, sort_keys=True)
