"""ghlsync.extract."""
