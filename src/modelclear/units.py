"""How sizes and counts read in every report: decimal units (1 GB = 10^9 bytes), as
GPU memory and model sizes are quoted by their vendors and publishers."""

from __future__ import annotations


def human_bytes(n: int | float | None) -> str:
    if n is None:
        return "—"
    n = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def human_count(n: int | float | None) -> str:
    """671026419200 → "671.03B" (parameters, users)."""
    if n is None:
        return "—"
    n = float(n)
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}".replace(".00", "")
    return f"{n:.0f}"
