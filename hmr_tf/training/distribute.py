"""Where training runs: the tf.distribute strategy, and each worker's and replica's share.

The input is a plain iterator of this worker's batches (the whole global batch on one machine),
which tf.train.Checkpoint can save; distributed iterators cannot be checkpointed in TF 2.21
(tf_facts §2). Inside the step, replica_batch cuts each replica's part out of that batch.
"""

import json
import os

import tensorflow as tf


def configure_devices(logical_cpus):
  """Splits the CPU into `logical_cpus` devices (> 1; 0 and 1 leave it whole).

  Must run before TensorFlow initialises its devices, i.e. before the first op.
  """
  if logical_cpus > 1:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * logical_cpus)


def _num_tasks():
  cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
  return sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))


def make_strategy():
  """MultiWorkerMirroredStrategy where TF_CONFIG names several tasks; else MirroredStrategy over
  the local GPUs, or over the logical CPUs (configure_devices), where there are several; else the
  default strategy on the one device."""
  if _num_tasks() > 1:
    return tf.distribute.MultiWorkerMirroredStrategy()
  gpus = tf.config.list_logical_devices("GPU")
  cpus = tf.config.list_logical_devices("CPU")
  if len(gpus) > 1:
    return tf.distribute.MirroredStrategy([d.name for d in gpus])
  if not gpus and len(cpus) > 1:
    return tf.distribute.MirroredStrategy([d.name for d in cpus])
  return tf.distribute.get_strategy()


def worker(strategy):
  """(index, count, is_chief) of this process among the strategy's workers.

  Workers are numbered chief first, then workers in task order. The chief (a "chief" task, or
  worker 0 where there is none) writes the checkpoints, summaries and config.
  """
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.cluster_spec().as_dict():
    return 0, 1, True
  cluster = resolver.cluster_spec().as_dict()
  tasks = [(kind, i) for kind in ("chief", "worker") for i in range(len(cluster.get(kind, [])))]
  index = tasks.index((resolver.task_type, resolver.task_id))
  return index, len(tasks), index == 0


def local_replicas(strategy):
  """Replicas of this worker."""
  return strategy.num_replicas_in_sync // worker(strategy)[1]


def check_batch_size(batch_size, num_replicas, with_3d):
  """Raises ValueError unless the global batch splits evenly over the replicas, into halves of
  2D and 3D examples on every replica when there are 3D datasets."""
  if batch_size % num_replicas:
    raise ValueError(f"train.batch_size {batch_size} does not split over {num_replicas} "
                     f"replicas; use a multiple of {num_replicas}")
  if with_3d and (batch_size // num_replicas) % 2:
    raise ValueError(f"train.batch_size {batch_size} gives {batch_size // num_replicas} "
                     f"examples per replica, which cannot be half 2D and half 3D; use a "
                     f"multiple of {2 * num_replicas}")


def input_context(strategy):
  """The tf.distribute.InputContext of this worker's input pipeline, or None for one worker.

  Each worker reads its own share of the shards and yields batches of batch_size / workers.
  """
  index, count, _ = worker(strategy)
  if count == 1:
    return None
  return tf.distribute.InputContext(num_input_pipelines=count, input_pipeline_id=index,
                                    num_replicas_in_sync=count)


def replica_batch(batch, index, count, groups=1):
  """Replica `index`'s part of a worker batch: the same share of each of `groups` equal parts.

  With groups=2 a batch of [2D half | 3D half] gives every replica half 2D and half 3D
  examples, as the paper's batches have.

  Args:
    batch: a nest of [N, ...] tensors, N divisible by groups · count.
    index: [] int replica index on this worker.
    count: replicas on this worker.
    groups: equal parts of the batch to take the share of.

  Returns:
    The nest with [N / count, ...] tensors.
  """
  def part(x):
    shape = tf.shape(x)
    grouped = tf.reshape(x, tf.concat([[groups, count, -1], shape[1:]], 0))
    return tf.reshape(tf.gather(grouped, index, axis=1), tf.concat([[-1], shape[1:]], 0))
  return tf.nest.map_structure(part, batch)
