"""TFLite files of an exported HMR: float32, float16, dynamic-range int8, full-integer int8.

Each file holds the SavedModel's three signatures (hmr_tf/export/saved_model.py) and runs in
ai-edge-litert without TensorFlow. The variants:
  fp32          the float model
  fp16          weights stored as float16 (half the file), computed in float32
  int8_dynamic  weights stored as int8 (SMPL's matrices too), activations quantized on the fly
  int8          full-integer: the encoder, calibrated on a representative set of crops,
                computes in int8; the rest stays float (below). Batch 1.
Quantizing SMPL's tail (Rodrigues, the big constant blend-shape, skinning and regressor
matrices) costs centimetres (tf_facts.md §5), and so would rounding Θ or the crop's pixel
arithmetic, so the full-integer file quantizes only the encoder (`quantized_scopes`), 95% of
the computation; the regressor, SMPL and the crop stay float (see _quantize_selectively for
how). Calibration needs a fixed batch (tf_facts.md §5): the int8 file takes batch 1.

Every file carries the mesh's triangles as the metadata buffer formats.FACES_METADATA, for
renderers (hmr_tf.inference reads it without TensorFlow).
"""

import contextlib
import os
import re
import tempfile
import warnings

import flatbuffers
import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as tflite_schema

from hmr_tf import atomic
from hmr_tf.export import crop
from hmr_tf.export import saved_model
from hmr_tf.export import formats

VARIANTS = ("fp32", "fp16", "int8_dynamic", "int8")


def quantized_scopes(model):
  """The Keras scopes that full-integer int8 quantizes: the encoder's."""
  return (model.encoder.name,)


def convert(model, variant, saved_model_dir=None, representative=None):
  """One TFLite variant of an HMR model.

  Args:
    model: the HMR keras.Model.
    variant: one of VARIANTS.
    saved_model_dir: its SavedModel (export_saved_model, any batch); written to a temporary
      directory when None. The int8 variant always writes its own, at batch 1.
    representative: for "int8": a callable returning an iterable of (signature name, inputs
      dict) pairs at batch 1, for every signature (see representative_samples).

  Returns:
    The .tflite file's bytes, the mesh's faces included as metadata.
  """
  if variant not in VARIANTS:
    raise ValueError(f"unknown TFLite variant '{variant}'; expected one of {VARIANTS}")
  if variant == "int8" and representative is None:
    raise ValueError("the full-integer int8 variant needs a representative dataset")
  with tempfile.TemporaryDirectory() as tmp:
    if saved_model_dir is None or variant == "int8":
      saved_model_dir = os.path.join(tmp, "saved_model")
      saved_model.export_saved_model(model, saved_model_dir,
                                     batch_size=1 if variant == "int8" else None)
    converter = tf.lite.TFLiteConverter.from_saved_model(
        saved_model_dir, signature_keys=list(formats.SIGNATURES))
    if variant != "fp32":
      converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "fp16":
      converter.target_spec.supported_types = [tf.float16]
    if variant == "int8":
      converter.representative_dataset = representative
      content = _quantize_selectively(converter, representative, quantized_scopes(model))
    else:
      content = converter.convert()
  faces = np.asarray(model.smpl.faces, "<i4").tobytes()
  return _with_metadata(content, formats.FACES_METADATA, faces)


def _with_metadata(content, name, data):
  """A .tflite model's bytes with a metadata buffer `name` holding `data` added."""
  model = tflite_schema.ModelT.InitFromPackedBuf(content, 0)
  buffer = tflite_schema.BufferT()
  buffer.data = np.frombuffer(data, np.uint8)
  model.buffers.append(buffer)
  metadata = tflite_schema.MetadataT()
  metadata.name, metadata.buffer = name, len(model.buffers) - 1
  model.metadata = (model.metadata or []) + [metadata]
  return _pack(model)


def _pack(model):
  builder = flatbuffers.Builder(1024)
  builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
  return bytes(builder.Output())


def _quantize_selectively(converter, representative, scopes):
  """Full-integer quantization of the ops under `scopes`; every other op stays float.

  The calibrated model records the range of every tensor, and the quantizer rounds a tensor
  to int8 wherever it has a range and some neighbouring op could take int8: denylisting the
  float ops by name (QuantizationDebugOptions.denylisted_nodes) still left quantize/dequantize
  pairs on the inputs of same-scale ops (CONCATENATION, PACK, SPLIT_V, UNPACK: the first
  rounds Θ, the last the pose's axis-angle components, 2 cm of vertex error). So the ranges
  are erased from every tensor that is neither an input nor an output of an op under
  `scopes` before quantizing, and those ops are denylisted too.
  """
  with _debugger_warnings_silenced():
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=representative)
  model = tflite_schema.ModelT.InitFromPackedBuf(debugger.calibrated_model, 0)
  float_ops = []
  for subgraph in model.subgraphs:
    quantized = set()
    for op in subgraph.operators:
      names = [subgraph.tensors[i].name.decode() for i in op.outputs]
      if in_scopes(names[0], scopes):
        quantized.update(op.inputs)
        quantized.update(op.outputs)
      else:
        float_ops.extend(names)
    for index, tensor in enumerate(subgraph.tensors):
      if index not in quantized:
        tensor.quantization = None
  debugger.calibrated_model = _pack(model)
  with _debugger_warnings_silenced():
    debugger.options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=float_ops)
  return debugger.get_nondebug_quantized_model()


@contextlib.contextmanager
def _debugger_warnings_silenced():
  """The debugger runs the deprecated tf.lite.Interpreter, which warns each time it starts."""
  with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"\s*Warning: tf.lite.Interpreter is deprecated")
    yield


def in_scopes(tensor_name, scopes):
  """Whether a TFLite tensor comes from an op under one of the Keras `scopes`.

  Tensor names are TF op names such as "hmr_1/resnet50_v2_1/conv1_conv_1/convolution", fused
  ones joined by ";"; a scope matches a whole path segment, with Keras's "_1" call suffix.
  """
  pattern = re.compile(r"(^|/)(" + "|".join(re.escape(s) for s in scopes) + r")(_\d+)?/")
  return any(pattern.search(part) for part in tensor_name.split(";"))


def representative_samples(crops):
  """A representative dataset for convert(): batch-1 inputs of every signature, from crops.

  serve_crops gets the crops; the image signatures get them as uint8 images, with the box
  whose window (crop.box_windows) is the whole image.

  Args:
    crops: [M, S, S, 3] float32 crops in [-1, 1], e.g. centre crops of training shards.

  Returns:
    A callable that yields (signature name, inputs dict) pairs.
  """
  crops = np.asarray(crops, np.float32)
  images = np.round((crops + 1.0) * 127.5).astype(np.uint8)
  size = crops.shape[1]
  half = size / crop.WINDOW_PER_DIAGONAL / np.sqrt(2) / 2  # a square box of that diagonal
  center = (size - 1) / 2
  box = np.array([[center - half, center - half, center + half, center + half]], np.float32)

  def samples():
    for i in range(len(crops)):
      yield "serve_crops", {"crops": crops[i:i + 1]}
      yield "serving_default", {"images": images[i:i + 1]}
      yield "serve_boxes", {"images": images[i:i + 1], "boxes": box}
  return samples


def write(content, path):
  """Writes a .tflite file atomically."""
  with atomic.atomic_write(path) as f:
    f.write(content)
