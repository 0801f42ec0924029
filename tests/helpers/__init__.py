"""Helpers shared by Bridge's tests (imported by tests, never a test themselves)."""
