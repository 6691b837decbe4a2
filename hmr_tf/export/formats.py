"""What an export holds, by name: shared by the writers and hmr_tf.inference (no TensorFlow).

  SavedModel directory: signatures SIGNATURES, each returning OUTPUTS, and the mesh's
    triangles in FACES_FILE (int32 [F, 3], numpy .npy).
  .tflite file: the same signatures and outputs, and the triangles as the metadata buffer
    FACES_METADATA (int32 [F, 3], little-endian).
"""

import os

SIGNATURES = ("serving_default", "serve_boxes", "serve_crops")
# HMR's own outputs (hmr_tf.models.HMR), then those of the crop's geometry.
MODEL_OUTPUTS = ("theta", "camera", "pose", "shape", "vertices", "joints3d", "keypoints3d",
                 "keypoints2d")
OUTPUTS = MODEL_OUTPUTS + ("camera_translation", "focal_length", "crop_boxes")
FACES_FILE = os.path.join("assets.extra", "faces.npy")
FACES_METADATA = "hmr_tf.faces"
TFLITE_DIR = "tflite"


def tflite_file(variant):
  """The file name of a TFLite variant in an export's TFLITE_DIR."""
  return f"{variant}.tflite"
