"""ghlsync.mapping."""
