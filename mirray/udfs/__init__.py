"""Pure per-song functions: bytes / numpy in, plain dicts out. No Ray here."""
