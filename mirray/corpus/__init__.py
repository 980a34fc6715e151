"""Generated test music with known answers (no audio is committed)."""
