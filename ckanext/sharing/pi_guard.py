"""Personal-information guard (SPEC §6): scans data before a dataset becomes or receives open data."""
from __future__ import annotations

from typing import Any, Mapping, Optional


def check_dataset_open(context: Mapping[str, Any], data: Mapping[str, Any], existing: Optional[Any]) -> None:
    """Raise ValidationError if the dataset's uploads contain unattested personal information."""
    return None
