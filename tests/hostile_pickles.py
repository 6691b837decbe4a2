"""Pickles that carry whatever state an attacker chooses, written by the real pickler.

`Reduced(callable_, args, state)` pickles as callable_(*args) followed by BUILD(state): the
opcodes numpy's and scipy's own objects use, with any state a file could carry.
"""

import numpy as np

_RECONSTRUCT = np._core.multiarray._reconstruct  # pylint: disable=protected-access


class Reduced:
  """Pickles as `callable_(*args)` followed by BUILD(state)."""

  def __init__(self, callable_, args, state):
    self.callable_, self.args, self.state = callable_, args, state

  def __reduce__(self):
    return self.callable_, self.args, self.state


def array(shape, dtype, data):
  """numpy's own pickling of an ndarray, with the shape, dtype and data given here."""
  return Reduced(_RECONSTRUCT, (np.ndarray, (0,), b"b"), (1, shape, dtype, False, data))


def dtype(code, flags):
  """A numpy dtype whose pickled state carries `flags` (numpy writes 63 for objects, else 0)."""
  return Reduced(np.dtype, (code, False, True), (3, "|", None, None, None, -1, -1, flags))


def sparse(matrix_class, state):
  """A scipy.sparse matrix of `matrix_class` whose pickled state is `state`."""
  return Reduced(matrix_class, (), state)
