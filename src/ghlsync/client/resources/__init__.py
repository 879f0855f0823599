"""ghlsync.client.resources."""
