"""Evaluation: metrics, benchmark protocols, and a model's scores over a converted split.

  metrics     pure numpy: MPJPE, PA-MPJPE, PCK, AUC, PVE, 2D PCK
  protocols   which examples each benchmark scores and how it groups them (by image id)
  scoring     every number of a protocol from predictions and ground truth
  evaluate    runs a model over a split: evaluate_model(model, dataset_dir, split, batch_size)
  report      tables, metrics.json, the per-joint plot, predictions.npz
  baselines   the mean-pose baseline: one Θ for every image
  plausibility  the share of predicted joint rotations outside a mocap pool's ranges
"""
