r"""The embedded default: HMR on the synthetic world, sized for a laptop CPU.

  hmr-synth --num 2000 --image_size 96 --output datasets/synth
  hmr-synth --poses_only --num 20000 --output datasets/mocap_joint_limits
  hmr-train --config configs/quickstart.py --workdir runs/quickstart

hmr-quickstart (make demo) renders its own small world and runs this config on it for a short
budget. Everything is HMR's recipe (hmr_tf.training.config) except the sizes: the "small"
encoder (hmr_tf.models.small_encoder) on 64 px crops, batch 16, and a short run. The synthetic
people carry full 3D and SMPL ground truth, so all losses are active with 2D data alone.
"""

from hmr_tf.training import config as config_lib


def get_config(arg=None):
  del arg
  config = config_lib.defaults()
  config.train.steps = 2000
  config.train.batch_size = 16
  config.train.seed = 0
  # HMR's 1e-5 is tuned for an ImageNet-initialised ResNet-50 over 55 epochs; a small encoder
  # trained from scratch in minutes needs larger steps.
  config.train.encoder_lr = 1e-3
  config.model.encoder = "small"
  config.model.image_size = 64
  config.data.train = "datasets/synth"
  config.data.mocap = "datasets/mocap_joint_limits"
  config.data.shuffle_buffer = 500
  config.checkpoint.every_steps = 500
  config.summary.every_steps = 50
  config.summary.images_every_steps = 500
  return config
