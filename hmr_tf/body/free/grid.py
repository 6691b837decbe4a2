"""Final arrays of the free body rounded onto a fixed grid, so that every machine builds the
same bits.

The build's numbers pass through BLAS and LAPACK (matrix products, eigh, NNLS), whose last bits
depend on the CPU's kernel and the thread count: measured differences reach 2·10⁻¹⁵ m in
the template and shape blend shapes and 3·10⁻¹³ in the regressors. Rounding to multiples of
GRID = 2⁻²⁰ (about 1 µm for positions in metres) maps such neighbours onto the same value
unless one sits within that distance of a rounding boundary (the differences measured between
kernels add up to odds of about 2·10⁻⁵ per full model), and loses nothing that matters: the
shape space is accurate to millimetres.

A power of two keeps the rounding exact (x / GRID and k · GRID are exact in floating point),
and sums of grid values are exact too, whatever their order.
"""

import numpy as np

GRID = 2.0 ** -20


def snap(array):
  """The array rounded to the nearest multiple of GRID (ties to even), as float64.

  Zeros come out as +0.0: noise of either sign around zero rounds to 0.0 or -0.0, which
  compare equal but hash differently (BodyModel.fingerprint).
  """
  return np.round(np.asarray(array, np.float64) / GRID) * GRID + 0.0


def snap_rows(matrix):
  """Convex rows [R, N] (non-negative, summing to 1) snapped, and summing exactly to 1 again.

  The rounding's residue, a few multiples of GRID, goes to each row's largest entry, which
  stays positive.
  """
  rows = snap(matrix)
  largest = np.argmax(rows, axis=1)
  rows[np.arange(len(rows)), largest] += 1.0 - rows.sum(axis=1)
  return rows
