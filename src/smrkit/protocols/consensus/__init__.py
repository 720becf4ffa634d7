"""Consensus and commit protocols written to be model-checked (and run in the kernel)."""
