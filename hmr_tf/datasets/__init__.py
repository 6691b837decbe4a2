"""One module per source dataset format: raw files -> person examples or mocap examples."""
