"""ghlsync.emulator."""
