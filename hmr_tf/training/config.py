"""The training config: every field hmr-train reads, its default, and what it means.

Experiment files (configs/*.py) start from defaults() and set what they need; any field can be
overridden on the command line with --config.<path>=<value>. The defaults are HMR's own
hyperparameters (configs/paper.py cites each); the data fields are empty.

The data fields take "DIR[:WEIGHT],…": converted shard folders, mixed by the given weights, or by
their example counts where no folder has a weight (how the original mixed its datasets).
"""

import ml_collections
from ml_collections import config_dict

MODES = ("full", "unpaired", "encoder_only")

# Fields a resumed run may change: they decide when to stop, save, log and evaluate, and where to
# run, not what the model computes. Any other difference from the workdir's config.json would
# make the checkpoint mean something else, so resuming refuses it.
RESUMABLE_CHANGES = ("train.steps", "train.jit_compile", "checkpoint.", "summary.",
                     "distribute.", "eval.", "data.eval")


def defaults():
  """A ConfigDict with every field (see the comments) at HMR's values."""
  config = ml_collections.ConfigDict()
  config.train = dict(
      steps=1000,
      batch_size=64,  # global: split over all replicas of all workers
      seed=config_dict.placeholder(int),  # None: nondeterministic; an int: exactly repeatable
      # "full": all losses; "unpaired": no 3D supervision, the adversarial prior only;
      # "encoder_only": no discriminator (the paper's ablations).
      mode="full",
      encoder_lr=1e-5,  # Adam on encoder + regressor + mean Θ
      discriminator_lr=1e-4,  # Adam on the discriminator
      # Decoupled weight decay (Keras' Adam weight_decay). HMR's e_wd/d_wd reached only slim
      # regularizers that its trainer never added to the losses, so it trained without any: 0.
      weight_decay=0.0,
      mixed_precision=False,  # mixed_float16 compute with dynamic loss scaling
      jit_compile=False,  # XLA for the forward and backward pass
  )
  config.loss = dict(  # HMR's e_loss_weight, e_3d_weight (twice) and d_loss_weight
      keypoints=60.0, joints3d=60.0, smpl=60.0, adversarial=1.0)
  config.model = dict(  # the arguments of hmr_tf.models.HMR
      encoder="resnet50_v2",
      encoder_weights="",  # "" none, "imagenet", or a weights file
      image_size=224,
      num_iterations=3,
      dropout=0.5,
      body_model="free",  # a spec of hmr_tf.body.spec: "free[:variant:gender]" or a file
      mean_params="",  # "" the built-in mean Θ, or HMR's .h5 / SPIN's .npz
  )
  config.data = dict(
      train="",  # 2D datasets (all of each batch, or its first half with train_3d)
      train_3d="",  # 3D datasets filling the second half of each batch; "" none
      mocap="",  # real SMPL poses and shapes for the discriminator
      eval="",  # a held-out dataset evaluated during training; "" none
      eval_split="test",
      shuffle_buffer=5000,  # examples; HMR's 2D queue kept 5000
      color_strength=0.0,  # colour jitter; HMR had none
  )
  config.checkpoint = dict(every_steps=1000, keep=3)
  config.summary = dict(
      every_steps=100,  # scalars, averaged over the steps since the last write
      images_every_steps=1000,  # keypoints and the mesh over a few inputs; 0 never
      num_images=4,
  )
  # distribute.logical_cpus > 1 splits the CPU into that many devices (tests, laptops); GPUs
  # are all used when present; TF_CONFIG with several tasks selects multi-worker training.
  config.distribute = dict(logical_cpus=0)
  config.eval = dict(every_steps=0, batch_size=32)  # 0: no evaluation during training
  return config


def changed_fields(old, new):
  """Dotted paths of the leaves that differ between two nested dicts (either side missing
  counts as a difference)."""
  changed = []
  for key in sorted(set(old) | set(new)):
    a, b = old.get(key), new.get(key)
    if isinstance(a, dict) and isinstance(b, dict):
      changed += [f"{key}.{path}" for path in changed_fields(a, b)]
    elif a != b:
      changed.append(key)
  return changed


def check_resumable(stored, config):
  """Raises ValueError naming the fields of `config` that a resumed run may not change.

  Args:
    stored: the workdir's config as a dict.
    config: the ConfigDict of the new run.
  """
  refused = [path for path in changed_fields(stored, config.to_dict())
             if not path.startswith(RESUMABLE_CHANGES)]
  if refused:
    allowed = ", ".join(p + "*" if p.endswith(".") else p for p in RESUMABLE_CHANGES)
    raise ValueError(f"the workdir was trained with another config; a resumed run may change "
                     f"only {allowed}. Differs: {', '.join(refused)} "
                     "(use a new --workdir for a new experiment)")


def check(config):
  """Raises ValueError for values no run can use, before anything is built."""
  if config.train.mode not in MODES:
    raise ValueError(f"train.mode should be one of {MODES}. Received: {config.train.mode!r}")
  if not config.data.train:
    raise ValueError("data.train is empty: name the 2D datasets to train on")
  if not config.data.mocap:
    raise ValueError("data.mocap is empty: name the mocap datasets of the discriminator's real "
                     "poses (hmr-convert mocap, or hmr-synth --poses_only)")
  for path in ("train.steps", "train.batch_size", "model.image_size", "model.num_iterations",
               "checkpoint.every_steps", "summary.every_steps"):
    section, name = path.split(".")
    if config[section][name] < 1:
      raise ValueError(f"{path} should be at least 1. Received: {config[section][name]}")
