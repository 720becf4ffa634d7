"""Checkers over traces and histories; they judge simulated and real runs alike."""
