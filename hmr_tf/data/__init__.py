"""TFRecord schema, atomic shards, the tf.data input pipeline and its augmentation."""
