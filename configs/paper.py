r"""HMR's recipe, as the paper (Kanazawa et al., CVPR 2018) and the original's do_train.sh train it.

  hmr-train --config configs/paper.py --workdir runs/paper

Every value below is the original's (github.com/akanazawa/hmr: src/config.py, do_train.sh,
src/data_loader.py; ../shared/reference/anchors.md §1.2–1.5). Convert the datasets first
(datasets/README.md): the 2D sets with `hmr-convert lsp|lspet|mpii|coco`, the 3D sets with
`hmr-convert h36m|mpi_inf_3dhp`, and the mocap pools with `hmr-convert mocap` (HMR's
mocap_neutrMosh records, CMU and jointLim) or `hmr-synth --poses_only` (a jointLim rebuilt).
The H3.6M mosh is no longer distributed: drop it with
--config.data.mocap=datasets/mocap_cmu,datasets/mocap_joint_limits. The paper's SMPL body is
--config.model.body_model=smpl_neutral.npz (`hmr-body convert` of the neutral SMPL file); the
free body model is the default. The original's augmentation (centre jitter ±20 px, scale
0.8–1.23, flips) is hmr_tf.data.augment's fixed behaviour.
"""

import math

from hmr_tf.training import config as config_lib

# The examples per dataset that the original hard-codes (src/data_loader.py num_examples).
HMR_DATASET_SIZES = {"lsp": 1_000, "lspet": 10_000, "mpii": 20_000, "coco": 79_344,
                     "h36m": 312_188, "mpi_inf_3dhp": 147_221}
EPOCHS = 55  # the paper; do_train.sh has 75, which the released model-667589 matches


def get_config(arg=None):
  del arg
  config = config_lib.defaults()
  config.train.batch_size = 64  # paper §4; half 2D, half 3D (data.train_3d below)
  # An epoch is every image of every dataset once, 2D and 3D together, 64 per step (the
  # original: num_itr_per_epoch = num_images / batch_size): 569 753 / 64 = 8 902.4 steps, and
  # 55 epochs are 489 632 steps. (The same arithmetic gives 667 680 steps for do_train.sh's
  # 75 epochs, consistent with the released checkpoint's step, 667 589.)
  config.train.steps = math.ceil(
      EPOCHS * sum(HMR_DATASET_SIZES.values()) / config.train.batch_size)
  config.train.mode = "full"
  config.train.encoder_lr = 1e-5  # do_train.sh e_lr
  config.train.discriminator_lr = 1e-4  # do_train.sh d_lr
  config.train.weight_decay = 0.0  # e_wd/d_wd never reached the losses (anchors §1.2)
  # e_loss_weight, e_3d_weight (do_train.sh: 60, for the 3D joints and the SMPL parameters),
  # d_loss_weight.
  config.loss.keypoints = 60.0
  config.loss.joints3d = 60.0
  config.loss.smpl = 60.0
  config.loss.adversarial = 1.0
  config.model.encoder = "resnet50_v2"  # slim's resnet_v2_50 ...
  config.model.encoder_weights = "imagenet"  # ... from its ImageNet checkpoint
  config.model.image_size = 224
  config.model.num_iterations = 3  # num_stage
  config.model.dropout = 0.5
  config.data.train = "datasets/lsp,datasets/lspet,datasets/mpii,datasets/coco"
  config.data.train_3d = "datasets/h36m,datasets/mpi_inf_3dhp"
  config.data.mocap = "datasets/mocap_cmu,datasets/mocap_h36m,datasets/mocap_joint_limits"
  config.data.shuffle_buffer = 5000  # the 2D queue's min_after_dequeue
  config.checkpoint.every_steps = 5000
  config.summary.images_every_steps = 1000  # do_train.sh log_img_step
  return config
