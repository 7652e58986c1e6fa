"""Validators registered by name (usable from any scheming schema)."""
from __future__ import annotations
