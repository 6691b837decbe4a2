"""Exports of an HMR model: SavedModel for TF Serving, TFLite for phones, the original's port.

  formats      what an export holds, by name (no TensorFlow: hmr_tf.inference reads it)
  crop         the in-graph person crop and the way back to image pixels
  saved_model  the SavedModel's signatures (serving_default, serve_boxes, serve_crops)
  tflite       the TFLite variants (fp32, fp16, int8_dynamic, int8 with a float SMPL tail)
  report       each export's differences from the Keras model and its accuracy
  original     the authors' TF1 checkpoint (slim resnet_v2_50 + 3D_module) onto our HMR
"""
