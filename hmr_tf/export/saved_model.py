"""SavedModel for TF Serving: an HMR model behind three signatures that crop inside.

  serving_default  images uint8 [N, H, W, 3], any size; each image is the person's crop, as
                   in the original demo (its longer side becomes the model's input side)
  serve_boxes      images uint8 [N, H, W, 3] and boxes float32 [N, 4] (x0, y0, x1, y1 pixels,
                   the person's tight box): the crop at the training data's person scale
  serve_crops      crops float32 [N, S, S, 3] in [-1, 1], already cropped

A serving signature cannot have optional inputs, hence serving_default and serve_boxes. Every
signature returns the same outputs, float32, for any batch size N:
  theta [N, 85] and its parts camera [N, 3] (s, tx, ty of the crop), pose [N, 72], shape [N, 10]
  vertices [N, V, 3], joints3d [N, 24, 3], keypoints3d [N, 19, 3]  metres, body frame
  keypoints2d [N, 19, 2]          cocoplus-19 in pixels of the input (image or crop)
  camera_translation [N, 3]       where to put the body for a pinhole camera of focal length
                                  focal_length [N] px, principal point at the input's centre
  crop_boxes [N, 4]               the window that was cropped, input pixels (x0, y0, x1, y1)
(hmr_tf/export/crop.py has the crop rules and conventions.) The mesh's triangles, which no
signature returns, are stored beside the graph in assets.extra/faces.npy (int32 [F, 3]).

keras.export.ExportArchive writes it: TFLite converts its signatures correctly, where a plain
tf.Module wrapper gives unfrozen variables (tf_facts.md §4).
"""

import os

import keras
import numpy as np
import tensorflow as tf

from hmr_tf.export import crop as crop_lib
from hmr_tf.export.formats import FACES_FILE
from hmr_tf.export.formats import MODEL_OUTPUTS
from hmr_tf.export.formats import OUTPUTS
from hmr_tf.export.formats import SIGNATURES


def image_spec(batch=None):
  return tf.TensorSpec([batch, None, None, 3], tf.uint8, name="images")


def boxes_spec(batch=None):
  return tf.TensorSpec([batch, 4], tf.float32, name="boxes")


def crops_spec(image_size, batch=None):
  return tf.TensorSpec([batch, image_size, image_size, 3], tf.float32, name="crops")


def serving_functions(model):
  """The signatures' Python functions over `model`, by name (see the module docstring).

  Args:
    model: an HMR keras.Model (anything with `image_size` that maps crops to HMR's outputs).

  Returns:
    {name: (function, input specs builder)}: the builder takes the batch size (None for any).
  """
  size = model.image_size

  def outputs(crops, centers, sizes, image_size):
    out = model(crops, training=False)
    focal = crop_lib.default_focal_length(image_size)
    results = {key: out[key] for key in MODEL_OUTPUTS}
    results.update(
        keypoints2d=crop_lib.to_image(out["keypoints2d"], centers, sizes),
        camera_translation=crop_lib.full_image_translation(out["camera"], centers, sizes,
                                                           image_size, focal),
        focal_length=tf.fill(tf.shape(sizes), focal),
        crop_boxes=crop_lib.windows_to_boxes(centers, sizes))
    return results

  def serving_default(images):
    centers, sizes = crop_lib.image_windows(images)
    return outputs(crop_lib.crop(images, centers, sizes, size), centers, sizes,
                   tf.shape(images)[1:3])

  def serve_boxes(images, boxes):
    centers, sizes = crop_lib.box_windows(boxes)
    return outputs(crop_lib.crop(images, centers, sizes, size), centers, sizes,
                   tf.shape(images)[1:3])

  def serve_crops(crops):
    centers, sizes = crop_lib.image_windows(crops)  # the whole crop
    return outputs(crops, centers, sizes, tf.shape(crops)[1:3])

  return {
      "serving_default": (serving_default, lambda batch: [image_spec(batch)]),
      "serve_boxes": (serve_boxes, lambda batch: [image_spec(batch), boxes_spec(batch)]),
      "serve_crops": (serve_crops, lambda batch: [crops_spec(size, batch)]),
  }


def export_saved_model(model, path, signatures=SIGNATURES, batch_size=None):
  """Writes `model` as a SavedModel with the given signatures.

  Args:
    model: an HMR keras.Model.
    path: the SavedModel directory to write (replaced if it exists).
    signatures: names from SIGNATURES.
    batch_size: None (any batch) or a fixed batch size (full-integer TFLite calibration needs
      batch 1: tf_facts.md §5).
  """
  functions = serving_functions(model)
  unknown = set(signatures) - set(functions)
  if unknown:
    raise ValueError(f"unknown signatures {sorted(unknown)}; expected some of {SIGNATURES}")
  archive = keras.export.ExportArchive()
  archive.track(model)
  for name in signatures:
    function, specs = functions[name]
    archive.add_endpoint(name, function, input_signature=specs(batch_size))
  archive.write_out(path, verbose=False)
  os.makedirs(os.path.dirname(os.path.join(path, FACES_FILE)), exist_ok=True)
  np.save(os.path.join(path, FACES_FILE), np.asarray(model.smpl.faces, np.int32))
