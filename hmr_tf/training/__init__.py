"""Training: HMR's losses, the step, the loop, the workdir (hmr-train; README, "Training")."""
