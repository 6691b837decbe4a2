"""hmr-body: body-model files.

  hmr-body convert IN OUT.npz [--num_betas=10]
      Any supported SMPL file (.pkl v1.0.0 with chumpy objects, .pkl v1.1.0, HMR's cocoplus
      .pkl, smplx .npz) -> our .npz, read without chumpy and without running code from the file.
"""

from absl import app
from absl import flags
from absl import logging

from hmr_tf.body import model_files

_NUM_BETAS = flags.DEFINE_integer("num_betas", 10, "Shape components to keep (convert).")


def convert(in_path, out_path):
  model = model_files.load_body_model(in_path, num_betas=_NUM_BETAS.value)
  model_files.save_body_model(model, out_path)
  logging.info("%s -> %s: %d vertices, %d joints, %d betas, regressors %s, pose correctives %s",
               in_path, out_path, model.num_vertices, model.num_joints, model.num_betas,
               sorted(model.regressors) or "none", "yes" if model.has_pose_correctives else "no")


# name -> (function, its positional arguments as shown in the usage line)
_COMMANDS = {"convert": (convert, ("IN", "OUT.npz"))}


def main(argv):
  name, args = (argv[1], argv[2:]) if len(argv) > 1 else (None, [])
  if name not in _COMMANDS or len(args) != len(_COMMANDS[name][1]):
    raise app.UsageError("usage: " + " | ".join(
        f"hmr-body {n} {' '.join(a)}".rstrip() for n, (_, a) in _COMMANDS.items()))
  _COMMANDS[name][0](*args)


def run():
  app.run(main)


if __name__ == "__main__":
  run()
