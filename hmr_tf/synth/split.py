"""A rendered split on disk: shards plus an info.json that keeps the folder's other splits."""

import os

from hmr_tf.body import spec
from hmr_tf.data import outputs
from hmr_tf.data import shards
from hmr_tf.synth import generate


def write_split(world, output_dir, split, num, items_per_shard=1000, num_workers=1):
  """Renders images 0..num-1 of `world` into `split` shards under output_dir, and info.json.

  A rerun with the same settings finishes an interrupted one; one with other settings is
  refused. Raises OutputError, before rendering anything, where the folder is busy, its other
  splits were rendered with other body models or image size, or with this seed (they would
  repeat this split's images).

  Returns:
    The split's shards.SplitStats.
  """
  with outputs.locked(output_dir):
    _merged_info(world, output_dir, split, shards.SplitStats())  # checks before rendering
    stats = shards.write_split(output_dir, split, range(num), world,
                               items_per_shard=items_per_shard, num_workers=num_workers,
                               label=f"synth {split}", settings=_settings(world))
    splits, extra = _merged_info(world, output_dir, split, stats)
    sources = [s for s in (world.mocap, world.backgrounds) if s]
    shards.write_info(output_dir, generate.DATASET, splits, sources=sources,
                      extra={**extra, "mocap": world.mocap, "backgrounds": world.backgrounds})
  return stats


def _body_models(world):
  return [b if isinstance(b, str) else b.source for b in world.body_models]


def _fingerprints(world):
  """The body models' fingerprints: a spec or path names the body, these say which one it was."""
  return [spec.resolve(b).fingerprint for b in world.body_models]


def _settings(world):
  """What, besides the image count and shard size, fixes the rendered shards."""
  def absolute(path):
    return os.path.abspath(path) if path else None
  return {"dataset": generate.DATASET, "body_models": _body_models(world),
          "body_model_fingerprints": _fingerprints(world), "image_size": world.image_size, "seed": world.seed, "mocap": absolute(world.mocap),
          "backgrounds": absolute(world.backgrounds)}


def _merged_info(world, output_dir, split, stats):
  """The splits and settings for info.json, those of the folder's other splits kept."""
  body_models, fingerprints = _body_models(world), _fingerprints(world)
  splits, seeds = {split: stats}, {split: world.seed}
  if os.path.isfile(os.path.join(output_dir, "info.json")):
    info = shards.read_info(output_dir)
    if (info.get("body_models"), info.get("image_size")) != (body_models, world.image_size):
      raise outputs.OutputError(
          f"{output_dir} holds synthetic splits with body models {info.get('body_models')} "
          f"at image size {info.get('image_size')}; render these settings into another folder")
    if info.get("body_model_fingerprints") != fingerprints:
      raise outputs.OutputError(
          f"{output_dir} holds synthetic splits of other bodies under the same names "
          f"{body_models} (fingerprints {info.get('body_model_fingerprints')}, now "
          f"{fingerprints}); render into another folder")
    for other, other_seed in info.get("seeds", {}).items():
      if other != split and other_seed == world.seed:
        raise outputs.OutputError(
            f"{output_dir}: split '{other}' was rendered with seed {world.seed}, which would "
            f"give split '{split}' the same images; pass another --seed")
      if other != split:
        splits[other] = shards.SplitStats.from_json(info["splits"][other])
        seeds[other] = other_seed
  return splits, {"body_models": body_models, "body_model_fingerprints": fingerprints,
                  "image_size": world.image_size, "seeds": seeds}
