"""hmr-synth: synthetic training data, rendered people with complete ground truth.

  hmr-synth --num 10000 --image_size 128 --output datasets/synth [--seed 0]
      [--body_model free:lite:neutral,free:lite:male,free:lite:female] [--mocap datasets/cmu]
      [--backgrounds photos/] [--split train] [--num_workers 2] [--items_per_shard 1000]

Writes <split>-NNNNN-of-MMMMM.tfrecord shards in the person schema (hmr_tf.data.schema) and
info.json. A rerun with the same flags finishes an interrupted run. Image `i` of a split is
fixed by (--seed, i), so give each split of one output folder its own seed.
"""

import os

from absl import app
from absl import flags
from absl import logging

from hmr_tf.data import shards
from hmr_tf.synth import generate

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

flags.mark_flags_as_required(["num", "output"])


def merged_info(output_dir, split, stats, body_models, image_size, seed):
  """The splits and settings for info.json: those of earlier splits in `output_dir` kept.

  Raises ValueError where the folder's other splits were rendered with other body models or
  image size, or with this seed (they would repeat this split's images).
  """
  splits, seeds = {split: stats}, {split: seed}
  if os.path.isfile(os.path.join(output_dir, "info.json")):
    info = shards.read_info(output_dir)
    if (info.get("body_models"), info.get("image_size")) != (body_models, image_size):
      raise ValueError(f"{output_dir} holds synthetic splits with body models "
                       f"{info.get('body_models')} at image size {info.get('image_size')}; "
                       f"render these settings into another folder")
    for other, other_seed in info.get("seeds", {}).items():
      if other != split and other_seed == seed:
        raise ValueError(f"{output_dir}: split '{other}' was rendered with seed {seed}, which "
                         f"would give split '{split}' the same images; pass another --seed")
      if other != split:
        splits[other] = shards.SplitStats.from_json(info["splits"][other])
        seeds[other] = other_seed
  return splits, {"body_models": body_models, "image_size": image_size, "seeds": seeds}


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  body_models, output = list(_BODY_MODEL.value), _OUTPUT.value
  world = generate.SynthWorld(body_models, _IMAGE_SIZE.value, _SEED.value, _MOCAP.value,
                              _BACKGROUNDS.value)
  # Checks the folder's other splits before rendering anything.
  merged_info(output, _SPLIT.value, shards.SplitStats(), body_models, _IMAGE_SIZE.value,
              _SEED.value)
  stats = shards.write_split(output, _SPLIT.value, range(_NUM.value), world,
                             items_per_shard=_ITEMS_PER_SHARD.value,
                             num_workers=_NUM_WORKERS.value, label=f"synth {_SPLIT.value}")
  splits, extra = merged_info(output, _SPLIT.value, stats, body_models, _IMAGE_SIZE.value,
                              _SEED.value)
  sources = [s for s in (_MOCAP.value, _BACKGROUNDS.value) if s]
  shards.write_info(output, generate.DATASET, splits, sources=sources,
                    extra={**extra, "mocap": _MOCAP.value, "backgrounds": _BACKGROUNDS.value})
  logging.info("wrote %d images to %s", stats.examples, output)


def run():
  app.run(main)


if __name__ == "__main__":
  run()
