"""A mocap-style pool of poses sampled within joint limits: HMR's "jointLim" set, rebuilt.

HMR's discriminator trains on real SMPL poses: mosh of CMU (and H3.6M) plus "jointLim", poses
sampled within joint limits (anchors §1.2). This writes the last kind from hmr_tf.synth.poses'
limit table as mocap shards (hmr_tf.data.schema.mocap_example), so the embedded default can
train its discriminator without any licensed data. Poses are in SMPL's canonical y-up frame,
as the mocap converter writes them; shapes are β ~ N(0, I), as the synthetic world draws them.
"""

import dataclasses

import numpy as np

from hmr_tf import theta
from hmr_tf.data import outputs
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.synth import generate
from hmr_tf.synth import poses

DATASET = "joint_limits"


@dataclasses.dataclass(frozen=True)
class JointLimitPoses:
  """index -> [mocap example]: pose `index` of the pool with this seed (picklable for workers)."""

  seed: int = 0

  def __call__(self, index):
    rng = np.random.default_rng([self.seed, index])
    pose = np.concatenate([poses.canonical_lean(rng), poses.sample_body_pose(rng)])
    shape = np.clip(rng.normal(size=theta.NUM_SHAPE), -generate.SHAPE_CLIP, generate.SHAPE_CLIP)
    return [schema.mocap_example(pose, shape, f"{DATASET}/{self.seed}/{index}")]


def write_pose_pool(output_dir, num, seed=0, items_per_shard=10_000, num_workers=1):
  """Writes `num` poses as 'train' mocap shards and info.json; returns the SplitStats.

  A rerun with the same arguments finishes an interrupted one; one with others is refused
  (hmr_tf.data.outputs.OutputError), as is a folder another run is writing.
  """
  with outputs.locked(output_dir):
    stats = shards.write_split(output_dir, "train", range(num), JointLimitPoses(seed),
                               items_per_shard=items_per_shard, num_workers=num_workers,
                               label="joint-limit poses",
                               settings={"dataset": DATASET, "seed": seed})
    shards.write_info(output_dir, DATASET, {"train": stats}, joint_set="smpl_24",
                      kind="mocap", extra={"seed": seed})
  return stats
