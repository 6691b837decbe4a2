"""hmr-convert: a raw dataset -> TFRecord shards and info.json.

  hmr-convert NAME --input RAW [--output datasets/NAME] [--splits train,test]
      [--num_workers N] [--skip_bad] [--items_per_shard K] [--allow_empty_splits]

NAME is a converter module of hmr_tf.datasets (lsp, lspet, mpii, coco, …); its docstring, and
datasets/README.md, say what RAW must hold. Without --skip_bad the first bad item (a missing
image, a malformed entry) stops the conversion with an error naming the file and the field; a
split with no items in RAW is an error too, unless --allow_empty_splits. A rerun with the same
flags skips the shards that are finished, and one with other settings is refused. One run
writes an output folder at a time.
"""

import importlib
import os
import pkgutil

from absl import app
from absl import flags

from hmr_tf import checks
from hmr_tf import datasets
from hmr_tf import joints
from hmr_tf.cli import report
from hmr_tf.data import outputs
from hmr_tf.data import shards

_INPUT = flags.DEFINE_string("input", None, "Folder of the raw dataset.")
_OUTPUT = flags.DEFINE_string("output", None, "Destination folder (default: datasets/NAME).")
_SPLITS = flags.DEFINE_list("splits", None, "Splits to convert (default: all the dataset has).")
_NUM_WORKERS = flags.DEFINE_integer("num_workers", 1, "Processes; each writes whole shards.")
_SKIP_BAD = flags.DEFINE_bool(
    "skip_bad", False, "Count and report bad items (a missing image, a malformed entry) "
    "instead of stopping at the first.")
_ITEMS_PER_SHARD = flags.DEFINE_integer(
    "items_per_shard", 1000, "Items (images, or person annotations) per shard; keep it when "
    "resuming.")
_ALLOW_EMPTY_SPLITS = flags.DEFINE_bool(
    "allow_empty_splits", False, "Write a split that has no items in --input, empty (otherwise "
    "an error: its files or rows are missing).")

# What a converter module defines (see datasets/README.md).
_CONTRACT = ("KIND", "SPLITS", "SOURCE_JOINTS", "list_items", "make_examples")


def known_converters():
  """Names of the modules of hmr_tf.datasets that are converters."""
  names = []
  for module_info in pkgutil.iter_modules(datasets.__path__):
    try:
      module = importlib.import_module(f"{datasets.__name__}.{module_info.name}")
    except ImportError:
      continue
    if all(hasattr(module, attribute) for attribute in _CONTRACT):
      names.append(module_info.name)
  return sorted(names)


def converter(name):
  """The converter module hmr_tf.datasets.<name>; ValueError listing the known names."""
  module = None
  if name.isidentifier():
    try:
      module = importlib.import_module(f"{datasets.__name__}.{name}")
    except ModuleNotFoundError as error:
      if error.name != f"{datasets.__name__}.{name}":
        raise
  if module is None or not all(hasattr(module, attribute) for attribute in _CONTRACT):
    raise ValueError(f"unknown dataset '{name}'; known: {', '.join(known_converters())}")
  return module


def contents(module, input_dir):
  """(kind, source JointSet, splits) of what `module` converts in `input_dir`: the module's
  KIND, SOURCE_JOINTS and SPLITS, or what its `contents(input_dir)` says, for a converter whose
  input decides them (hmr_tfrecords)."""
  if hasattr(module, "contents"):
    return module.contents(input_dir)
  return module.KIND, module.SOURCE_JOINTS, module.SPLITS


def list_splits(module, input_dir, splits=None, allow_empty=False):
  """{split: items} for `splits` (default: all the input has), listed before any writing.

  Raises:
    FileNotFoundError or ValueError naming the file and the field that could not be read, or
    the split that has no items (unless allow_empty).
  """
  unknown = [s for s in splits or () if s not in module.SPLITS]
  if unknown:
    raise ValueError(f"unknown split(s) {', '.join(unknown)}; this dataset has "
                     f"{', '.join(module.SPLITS)}")
  if not os.path.isdir(input_dir):
    raise FileNotFoundError(f"input folder not found: {input_dir}")
  splits = list(splits or contents(module, input_dir)[2])
  items = {}
  for split in splits:
    try:
      items[split] = module.list_items(input_dir, split)
    except FileNotFoundError as error:
      if len(splits) == 1:
        raise
      raise FileNotFoundError(f"split '{split}': {error} (--splits converts the splits that "
                              "are there)") from error
    if not items[split] and not allow_empty:
      raise ValueError(f"split '{split}': {input_dir} holds nothing for it "
                       f"({module.__name__.rsplit('.', 1)[-1]}'s docstring says what it needs); "
                       "--splits converts the others, --allow_empty_splits writes it empty")
  return items


def write_dataset(name, module, items, output_dir, input_dir, num_workers=1, skip_bad=False,
                  items_per_shard=1000):
  """Writes each split's shards and info.json, holding the folder's lock.

  Splits converted by an earlier run and not named in `items` keep their entry in info.json.

  Returns:
    The info.json dict; its "splits" cover this run's splits and earlier ones.

  Raises:
    hmr_tf.checks.BadInput: an item is bad input, without skip_bad.
    hmr_tf.data.outputs.OutputError: the folder is busy, holds another dataset or a split
      made with other settings, or cannot be written.
  """
  kind, source_joints, _ = contents(module, input_dir)
  with outputs.locked(output_dir):
    stats = _earlier_splits(output_dir, name)
    settings = {"dataset": name, "input": os.path.abspath(input_dir)}
    for split, split_items in items.items():
      stats[split] = shards.write_split(output_dir, split, split_items, module.make_examples,
                                        items_per_shard=items_per_shard,
                                        num_workers=num_workers, skip_bad=skip_bad,
                                        label=f"{name} {split}", settings=settings)
    return shards.write_info(
        output_dir, name, stats, kind=kind, sources=[os.path.abspath(input_dir)],
        joint_set=joints.COCOPLUS_19.name if kind == "person" else None,
        extra={"source_joints": getattr(source_joints, "name", None)})


def _earlier_splits(output_dir, name):
  """{split: SplitStats} of the folder's info.json; {} where there is none or it is damaged
  (info.json then lists only the splits converted now; each split's settings are still
  checked against its own record)."""
  try:
    info = shards.read_info(output_dir)
  except (FileNotFoundError, checks.BadInput):
    return {}
  if info.get("dataset") != name:
    raise outputs.OutputError(f"{output_dir} holds dataset '{info.get('dataset')}', not "
                              f"'{name}'; write each dataset to its own folder")
  return {split: shards.SplitStats.from_json(s) for split, s in info["splits"].items()}


def main(argv):
  if len(argv) != 2:
    raise app.UsageError("usage: hmr-convert NAME --input RAW [--output datasets/NAME] "
                         "[--splits a,b] [--num_workers N] [--skip_bad] [--items_per_shard K] "
                         "[--allow_empty_splits]")
  if not _INPUT.value:
    raise app.UsageError("--input is required: the folder of the raw dataset")
  name = argv[1]
  tool = f"hmr-convert {name}"
  output_dir = _OUTPUT.value or os.path.join("datasets", name)
  try:
    module = converter(name)
    items = list_splits(module, _INPUT.value, _SPLITS.value, _ALLOW_EMPTY_SPLITS.value)
  except (FileNotFoundError, ValueError) as error:  # ValueError: BadInput, an unknown name
    report.fail(tool, error)
  try:
    info = write_dataset(name, module, items, output_dir, _INPUT.value,
                         num_workers=_NUM_WORKERS.value, skip_bad=_SKIP_BAD.value,
                         items_per_shard=_ITEMS_PER_SHARD.value)
  except checks.BadInput as error:
    report.fail(tool, error, "--skip_bad counts and skips bad items instead, and a rerun "
                "resumes after the finished shards")
  except outputs.OutputError as error:
    report.fail(tool, error)
  stats = {split: shards.SplitStats.from_json(s) for split, s in info["splits"].items()}
  report.bad_input(tool, stats)
  report.done(tool, report.splits(output_dir, stats))


def run():
  app.run(main)


if __name__ == "__main__":
  run()
