"""The primary-backup family of seed 001."""
