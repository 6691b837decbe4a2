"""hmr-synth: synthetic training data, rendered people with complete ground truth.

  hmr-synth --num 10000 --image_size 128 --output datasets/synth [--seed 0]
      [--body_model free:lite:neutral,free:lite:male,free:lite:female] [--mocap datasets/cmu]
      [--backgrounds photos/] [--split train] [--num_workers 2] [--items_per_shard 1000]

  hmr-synth --poses_only --num 100000 --output datasets/mocap_joint_limits [--seed 0]
      A mocap pool of poses sampled within joint limits (HMR's "jointLim" set) for the
      discriminator, instead of images.

Writes <split>-NNNNN-of-MMMMM.tfrecord shards in the person schema (hmr_tf.data.schema), or in
the mocap schema with --poses_only, and info.json. A rerun with the same flags finishes an
interrupted run; one with other settings is refused. Image `i` of a split is fixed by
(--seed, i), so give each split of one output folder its own seed.
"""

from absl import app
from absl import flags

from hmr_tf.cli import report
from hmr_tf.data import outputs
from hmr_tf.synth import generate
from hmr_tf.synth import pose_pool
from hmr_tf.synth import split

_BODY_MODEL = flags.DEFINE_list(
    "body_model", list(generate.DEFAULT_BODY_MODELS),
    "Body models to pick from per image: 'free', 'free:<variant>:<gender>' or SMPL files.")
_NUM = flags.DEFINE_integer("num", None, "Images to render.", lower_bound=1)
_IMAGE_SIZE = flags.DEFINE_integer("image_size", 128, "Side of the square images, pixels.",
                                   lower_bound=16)
_OUTPUT = flags.DEFINE_string("output", None, "Directory for the shards and info.json.")
_SEED = flags.DEFINE_integer("seed", 0, "The split's seed; (seed, index) fixes an image.",
                             lower_bound=0)
_MOCAP = flags.DEFINE_string("mocap", None, "Mocap shard directory to draw poses from "
                             "(hmr-convert mocap); default: poses sampled within joint limits.")
_BACKGROUNDS = flags.DEFINE_string("backgrounds", None, "Folder of background photos; default: "
                                   "procedural backgrounds only.")
_SPLIT = flags.DEFINE_string("split", "train", "Split name of the shards.")
_NUM_WORKERS = flags.DEFINE_integer("num_workers", 1, "Processes, each writing whole shards.",
                                    lower_bound=1)
_ITEMS_PER_SHARD = flags.DEFINE_integer("items_per_shard", 1000, "Images per shard.",
                                        lower_bound=1)

_POSES_ONLY = flags.DEFINE_bool("poses_only", False, "Write a mocap pool of poses sampled "
                                "within joint limits instead of images.")

flags.mark_flags_as_required(["num", "output"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  try:
    if _POSES_ONLY.value:
      name = "train"
      stats = pose_pool.write_pose_pool(_OUTPUT.value, _NUM.value, _SEED.value,
                                        _ITEMS_PER_SHARD.value, _NUM_WORKERS.value)
    else:
      name = _SPLIT.value
      world = generate.SynthWorld(list(_BODY_MODEL.value), _IMAGE_SIZE.value, _SEED.value,
                                  _MOCAP.value, _BACKGROUNDS.value)
      stats = split.write_split(world, _OUTPUT.value, name, _NUM.value,
                                _ITEMS_PER_SHARD.value, _NUM_WORKERS.value)
  # A busy, full, read-only or differently made folder; a body model, mocap or backgrounds
  # folder that is missing or unusable (ValueError: hmr_tf.checks.BadInput, a bad spec).
  except (outputs.OutputError, FileNotFoundError, ValueError) as error:
    report.fail("hmr-synth", error)
  report.done("hmr-synth", report.splits(_OUTPUT.value, {name: stats}))


def run():
  app.run(main)


if __name__ == "__main__":
  run()
