"""The training input from the config's data fields ("DIR[:WEIGHT],…")."""

from hmr_tf.data import pipeline


def parse_datasets(value, field):
  """"DIR[:WEIGHT],…" -> a list of folders (mixed by example counts) or {folder: weight}.

  Either every folder has a weight or none has; "" gives [].

  Args:
    value: the config string.
    field: its config path, for messages.
  """
  folders, weights = [], []
  for item in (part.strip() for part in value.split(",")):
    if not item:
      continue
    folder, _, weight = item.rpartition(":")
    try:
      weights.append(float(weight))
      folders.append(folder)
    except ValueError:  # no weight (or a folder name with a colon)
      weights.append(None)
      folders.append(item)
  if not folders:
    return []
  if all(w is None for w in weights):
    return folders
  if any(w is None for w in weights):
    raise ValueError(f"{field}: give every folder a weight or none. Received: {value!r}")
  return dict(zip(folders, weights))


def train_dataset(config, input_context=None):
  """This worker's endless (person, mocap) batches (hmr_tf.data.pipeline.train_dataset).

  The pipeline checks every folder when the dataset is built, before any step: missing shards,
  an info.json of the wrong kind, an empty split each raise an error naming the folder.
  """
  data = config.data
  return pipeline.train_dataset(
      parse_datasets(data.train, "data.train"), parse_datasets(data.mocap, "data.mocap"),
      config.train.batch_size, config.model.image_size,
      datasets_3d=parse_datasets(data.train_3d, "data.train_3d") or None,
      seed=config.train.seed, color_strength=data.color_strength,
      shuffle_buffer=data.shuffle_buffer, input_context=input_context)
