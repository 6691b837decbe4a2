"""hmr-train: train HMR in a workdir, or resume the run a workdir holds.

  hmr-train --config configs/quickstart.py --workdir runs/q [--config.train.steps=200]
  hmr-train --workdir runs/q        resume with the config saved in runs/q/config.json

The workdir gets config.json (the resolved config and the body model's fingerprint),
checkpoints/ and logs/ (TensorBoard: `tensorboard --logdir runs/q/logs`). Rerunning on the same
workdir resumes from its last checkpoint; a resumed run may change only the fields that do not
change what is trained (train.steps, checkpoint.*, summary.*, eval.*, distribute.*).

All local GPUs are used; --config.distribute.logical_cpus=N splits the CPU into N devices; a
TF_CONFIG naming several tasks trains on several machines (README, "Training").
"""

import os

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from hmr_tf.training import distribute
from hmr_tf.training import trainer
from hmr_tf.training import workdir as workdir_lib

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "A config file (configs/*.py); optional when --workdir holds a run.",
    lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "The run's folder.", required=True)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  workdir = _WORKDIR.value
  config = _CONFIG.value
  if config is None:
    if not os.path.isfile(os.path.join(workdir, workdir_lib.CONFIG_FILE)):
      raise app.UsageError(f"--config is needed: {workdir} holds no run to resume")
    config = workdir_lib.load_config(workdir)[0]
  distribute.configure_devices(config.distribute.logical_cpus)
  result = trainer.train(config, workdir)
  if result.history:
    _, last = result.history[-1]
    logging.info("step %d: %s", result.step,
                 ", ".join(f"{k}={v:.4g}" for k, v in sorted(last.items())))
  logging.info("trained to step %d in %s", result.step, workdir)


def run():
  app.run(main)


if __name__ == "__main__":
  run()
