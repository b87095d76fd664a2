"""Shared command-line plumbing for the serving commands (bench, probe, baseline, drift)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import InputError, UsageError
from .client import EndpointConfig, normalize_base_url


def endpoint(
    url: str,
    model: str,
    *,
    api: str = "chat",
    timeout: float = 120.0,
    retries: int = 0,
    api_key_env: str = "OPENAI_API_KEY",
    insecure: bool = False,
    ca_bundle: Path | None = None,
    client_cert: Path | None = None,
) -> EndpointConfig:
    normalize_base_url(url)  # raises InputError for a bad URL
    if api not in ("chat", "completions"):
        raise UsageError(f"--api must be chat or completions, not {api!r}")
    if not model.strip():
        raise UsageError("--model must name the served model")
    if timeout <= 0:
        raise UsageError("--timeout must be positive")
    if retries < 0 or retries > 10:
        raise UsageError("--retries must be between 0 and 10")
    verify: bool | str = True
    if ca_bundle is not None:
        if not ca_bundle.is_file():
            raise InputError(str(ca_bundle), "CA bundle not found")
        verify = str(ca_bundle)
    if insecure:
        verify = False
    if client_cert is not None and not client_cert.is_file():
        raise InputError(str(client_cert), "client certificate not found")
    cfg = EndpointConfig(
        url=url,
        model=model,
        api=api,
        timeout=timeout,
        retries=retries,
        api_key_env=api_key_env,
        verify=verify,
        client_cert=str(client_cert) if client_cert else None,
    )
    check_reachable(cfg)
    return cfg


def check_reachable(cfg: EndpointConfig) -> None:
    """One GET before any work: an endpoint that is down, or a TLS setup that fails, is
    an input error (exit 2) rather than a run of hundreds of failed requests.

    Any HTTP answer counts as reachable (some servers have no ``/models``)."""
    import httpx

    headers = {"User-Agent": "modelclear"}
    if key := cfg.api_key():
        headers["Authorization"] = f"Bearer {key}"
    try:
        with httpx.Client(verify=cfg.verify, cert=cfg.client_cert, trust_env=False,
                          timeout=httpx.Timeout(cfg.connect_timeout)) as client:
            client.get(cfg.base_url + "/models", headers=headers)
    except httpx.HTTPError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(cfg.url, f"cannot reach the endpoint: {reason}") from None


def target_json(cfg: EndpointConfig) -> dict[str, Any]:
    """Where results came from; never includes the API key, only the variable's name."""
    return {
        "url": cfg.base_url,
        "model": cfg.model,
        "api": cfg.api,
        "api_key_env": cfg.api_key_env if os.environ.get(cfg.api_key_env) else None,
    }


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def tool_version() -> str:
    return __version__


def write_json(path: Path, data: Any) -> None:
    try:
        path.write_text(
            json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
    except OSError as exc:
        raise InputError(str(path), f"cannot write: {exc.strerror}") from None


def parse_list(text: str, kind: type, name: str) -> tuple[Any, ...]:
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            v = kind(part)
        except ValueError:
            raise UsageError(f"{name}: {part!r} is not a {kind.__name__}") from None
        if v <= 0:
            raise UsageError(f"{name}: values must be positive")
        out.append(v)
    return tuple(out)
