"""ghlsync.client."""
