"""The approval engine: pure Python, no I/O. See docs/engine.md."""
