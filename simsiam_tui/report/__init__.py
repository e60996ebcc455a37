"""Reports made from run folders for sharing: matplotlib figures and TensorBoard event files (never torch)."""
