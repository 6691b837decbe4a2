"""The synthetic benchmark: train and test splits, and an unpaired pose pool, from three seeds.

  folders = benchmark.write_benchmark("demo_output", "free", image_size=64)  # 3000, 300, 20000
  folders.data        shards of the 'train' (seed 0) and 'test' (seed 1) splits + info.json
  folders.pool        the discriminator's joint-limit poses (seed 2)
  folders.mean_params the pool's mean pose and shape: the regressor's Θ₀ (SPIN's .npz layout)

Every sample draws from its own generator seeded with (seed, index), so the three seeds give
three unrelated streams: the poses rendered into the training images are not the
discriminator's (the prior is unpaired, as in the paper), and no test person is in either
(tests/test_quickstart.py checks the nearest neighbours). hmr-quickstart and
benchmarks/synthetic_ablation.py train and score on it; benchmarks/lifting_bound.py draws more
people of the same streams (`world`).
"""

import dataclasses
import os

from hmr_tf.body import mean_params
from hmr_tf.synth import generate
from hmr_tf.synth import pose_pool
from hmr_tf.synth import poses
from hmr_tf.synth import split

SEEDS = {"train": 0, "test": 1, "pool": 2}
# The quickstart's sizes, which the benchmarks/ scripts share: people per split, pool poses.
NUM_TRAIN, NUM_TEST, NUM_POOL = 3000, 300, 20000


@dataclasses.dataclass(frozen=True)
class Folders:
  """Where a benchmark lives under its root folder."""

  root: str

  @property
  def data(self):
    return os.path.join(self.root, "synth")

  @property
  def pool(self):
    return os.path.join(self.root, "mocap_joint_limits")

  @property
  def mean_params(self):
    return os.path.join(self.pool, "mean_params.npz")


def world(split_name, body_model, image_size):
  """The SynthWorld that draws a split's people ("train" or "test")."""
  return generate.SynthWorld([body_model], image_size=image_size, seed=SEEDS[split_name])


def write_benchmark(root, body_model, image_size, num_train=NUM_TRAIN, num_test=NUM_TEST,
                    num_pool=NUM_POOL):
  """Renders both splits and the pool under `root` (a rerun finishes or reuses them).

  Returns:
    The Folders.
  """
  folders = Folders(root)
  for split_name, num in (("train", num_train), ("test", num_test)):
    split.write_split(world(split_name, body_model, image_size), folders.data, split_name, num)
  pose_pool.write_pose_pool(folders.pool, num_pool, seed=SEEDS["pool"])
  pool = poses.load_mocap(folders.pool)
  mean_params.write_mean_params(folders.mean_params, pool["pose"], pool["shape"])
  return folders

