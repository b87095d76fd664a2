"""The package's TOML data tables, parsed once per content and then read back as JSON.

Why: a one-file ``modelclear scan`` spends a third of its start-up on two TOML tables
(the finding codes and the pickle allowlist): importing ``tomllib`` (~20 ms, it compiles
its regular expressions and pulls in ``datetime``) and parsing (~10 ms). The same data
as JSON loads in well under a millisecond with ``json``, which every command imports
anyway. So the first run parses the TOML and leaves a JSON copy in the user cache; later
runs read that copy.

The copy is keyed by the TOML file's name, length and CRC-32 (its bytes are read every
time, a few microseconds), never by a timestamp, so an edited or reinstalled table can
never be answered from a stale copy. A copy is written only when the JSON round trip
gives back exactly the parsed table (a TOML date, which JSON cannot hold, means no copy).
Any cache problem — missing folder, unwritable disk, a damaged copy — falls back to
parsing the TOML; the cache can only make a run faster, never change its data.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any

#: the package's ``data`` folder (read by path: ``importlib.resources`` costs ~10 ms to
#: import, and modelclear is installed as files, never run from a zip)
DATA = Path(__file__).resolve().parent / "data"


def cache_folder() -> Path:
    """Where the JSON copies go: ``$MODELCLEAR_CACHE_DIR/tables``, else the platform's
    user cache (the folder :mod:`modelclear.hashing` uses too)."""
    base = os.environ.get("MODELCLEAR_CACHE_DIR")
    if not base and sys.platform.startswith("linux"):
        # platformdirs' answer on Linux, without its ~20 ms import
        xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
        base = os.path.join(xdg if os.path.isabs(xdg) else os.path.expanduser("~/.cache"),
                            "modelclear")
    if not base:
        from platformdirs import user_cache_dir

        base = user_cache_dir("modelclear")
    return Path(base) / "tables"


def load_toml(*parts: str) -> dict[str, Any]:
    """The table at ``data/<parts...>`` (a ``.toml`` file), as ``tomllib`` would parse it."""
    path = DATA.joinpath(*parts)
    raw = path.read_bytes()
    key = f"{'-'.join(parts)}-{len(raw)}-{zlib.crc32(raw):08x}.json"
    copy = cache_folder() / key
    try:
        data = json.loads(copy.read_bytes())
        if isinstance(data, dict):
            return data
    except (OSError, ValueError):
        pass  # no copy yet, or a damaged one: parse the TOML below
    import tomllib

    data = tomllib.loads(raw.decode("utf-8"))
    _keep(copy, data)
    return data


def _keep(copy: Path, data: dict[str, Any]) -> None:
    """Write the JSON copy atomically, only if it reads back equal; never raise."""
    try:
        text = json.dumps(data, ensure_ascii=False)
        if json.loads(text) != data:
            return
        copy.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy.with_name(f".{copy.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, copy)
    except (OSError, TypeError, ValueError):
        return  # a read-only home or a date in the table: parse the TOML next time too
