"""Blog writes. Each service is a sync, keyword-only function that owns its transaction; its
``a``-prefixed twin runs it on a database thread for async callers."""
