"""A model on a Hugging Face hub (or a private hub or mirror speaking its API), read
without downloading its weights: ``hf://org/name[@revision]``.

The clearance question usually comes before the download. ``model_info`` with file
metadata gives the commit, every file's size and LFS sha256; the small files a
clearance reads (config, tokenizer and chat-template files, card, license, notice and
policy texts, code) are downloaded with ``hf_hub_download`` into the usual cache; weights
(safetensors, GGUF, PyTorch files) become :class:`~.hubhttp.RemoteFile` objects read by
range requests, so only their headers and pickle streams cross the network. Any other big
file is represented by the Git LFS pointer the hub would give a clone: every analyzer
already reports such a file as absent and not scanned (MC106), never as clean.

The token comes from ``HF_TOKEN`` or the huggingface_hub login and is only ever handed
to huggingface_hub's own header builder: never printed, never recorded.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..parsers.lfs import pointer_bytes
from ..release import Release, ReleaseFile, SourceInfo, stat_file
from .base import HUB_KIND, HUB_PREFIX
from .hubhttp import RangeFetcher, RemoteFile, retry_after, with_retries
from .hubzip import mirror_torch_zip

PREFIX = HUB_PREFIX
HUB_RE = re.compile(r"^hf://(?P<repo>[A-Za-z0-9][\w.\-]*/[\w.\-]+)(?:@(?P<rev>[\w.\-/]+))?$")
#: weights formats whose headers (or pickle stream) are read by range requests
RANGE_SUFFIXES = (".safetensors", ".gguf", ".bin", ".pt", ".pth", ".ckpt")
#: range block for a zip's members: a local header and the first bytes of the data
MEMBER_BLOCK = 4096
#: other files up to this size are downloaded whole (a large tokenizer.json is ~20 MB)
SMALL_FILE = 32 * 1024 * 1024
#: what a clearance reads of a repo with thousands of files; more is refused
MAX_FILES = 10_000

#: ``--endpoint`` given on the command line (wins over ``HF_ENDPOINT``)
_endpoint_option: list[str] = []


def set_endpoint(url: str | None) -> None:
    """The CLI's ``--endpoint``: a private hub or mirror for every hf:// target."""
    _endpoint_option[:] = [url.rstrip("/")] if url else []


def endpoint() -> str:
    """``--endpoint``, else ``HF_ENDPOINT``, else huggingface_hub's default."""
    from huggingface_hub import constants

    if _endpoint_option:
        return _endpoint_option[0]
    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def parse_target(target: str) -> tuple[str, str | None]:
    m = HUB_RE.match(target)
    if m is None:
        raise InputError(target, "not a hub model id: expected hf://org/name or "
                         "hf://org/name@revision")
    return m["repo"], m["rev"]


def _hub_error(target: str, exc: Exception, where: str) -> InputError:
    """One line for anything the hub or the network answers, with no token in it."""
    from huggingface_hub import errors

    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, errors.GatedRepoError):
        why = (f"gated repository: access not granted ({status}); accept its conditions on "
               "the hub and set HF_TOKEN (or `huggingface-cli login`)")
    elif isinstance(exc, errors.RevisionNotFoundError):
        why = "revision not found on the hub"
    elif isinstance(exc, errors.RepositoryNotFoundError):
        why = (f"repository not found on {where} (or private: set HF_TOKEN or "
               "`huggingface-cli login`)")
    elif isinstance(exc, errors.RemoteEntryNotFoundError):
        why = "a file the hub listed is not served (404)"
    elif isinstance(exc, errors.HfHubHTTPError):
        why = f"the hub answered HTTP {status}" + (
            " (not allowed: check the token's access)" if status == 403 else "")
    else:
        why = f"cannot reach {where}: {type(exc).__name__}: {str(exc)[:200]}"
    return InputError(target, why)


def _hub_retryable(exc: Exception) -> float | None:
    """429 and 5xx answers (and dropped connections) are retried, with backoff."""
    import httpx2
    from huggingface_hub import errors

    if isinstance(exc, errors.HfHubHTTPError) and exc.response is not None:
        if exc.response.status_code == 429 or exc.response.status_code >= 500:
            return retry_after(exc.response.headers) or 0.0
        return None
    if isinstance(exc, httpx2.TransportError) and not isinstance(exc, httpx2.ConnectError):
        return 0.0
    return None


def hub_call(target: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)`` with retries; every failure is one InputError line."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise InputError(target, "HF_HUB_OFFLINE is set: hub mode needs the network (unset "
                         "it, or name a downloaded snapshot as org/name or a directory)")
    try:
        return with_retries(lambda: call(*args, **kwargs), is_retryable=_hub_retryable)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any client or network failure is one line
        raise _hub_error(target, exc, endpoint()) from None


@dataclass(frozen=True)
class HubFile:
    """One file as ``model_info`` lists it."""

    path: str
    size: int
    lfs_sha256: str | None


def model_files(target: str, info: Any) -> list[HubFile]:
    """The siblings, checked: a listing without sizes cannot be read honestly."""
    siblings = info.siblings or []
    if len(siblings) > MAX_FILES:
        raise InputError(target, f"the hub lists {len(siblings)} files: not a model release")
    out: list[HubFile] = []
    for s in siblings:
        size = s.lfs.size if s.lfs is not None else s.size
        if not isinstance(size, int) or size < 0:
            raise InputError(target, f"the hub gives no size for {s.rfilename}")
        if ".." in s.rfilename.split("/") or s.rfilename.startswith("/"):
            raise InputError(target, f"the hub lists a file outside the repo: {s.rfilename!r}")
        out.append(HubFile(s.rfilename, size, s.lfs.sha256 if s.lfs is not None else None))
    return out


def _download(target: str, repo: str, sha: str, f: HubFile,
              token: Any) -> tuple[ReleaseFile, Path]:
    """The file downloaded whole into the cache, and the snapshot folder it sits in."""
    from huggingface_hub import hf_hub_download

    from .hfcache import cache_dir

    # the cache as the environment names it now (huggingface_hub fixes it at import)
    local = Path(hub_call(target, hf_hub_download, repo, f.path, revision=sha,
                          endpoint=endpoint(), token=token, cache_dir=cache_dir()))
    rf = stat_file(local, f.path)
    if rf.size != f.size:
        raise InputError(f.path, f"the hub declares {f.size} bytes but served {rf.size}")
    return rf, local.parents[len(Path(f.path).parts) - 1]


def _pointer(root: Path, f: HubFile) -> ReleaseFile:
    """The Git LFS pointer a clone would hold: the file is listed, its bytes are absent."""
    assert f.lfs_sha256 is not None
    path = root / "_pointers" / f.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pointer_bytes(f.lfs_sha256, f.size))
    return stat_file(path, f.path)


def _remote(url: str, f: HubFile, headers: dict[str, str], revision: str) -> RemoteFile:
    assert f.lfs_sha256 is not None
    return RemoteFile(path=f.path, abspath=Path(f"/hf/{revision}/{f.path}"), size=f.size,
                      mtime_ns=0, inode=0, remote_sha256=f.lfs_sha256,
                      fetcher=RangeFetcher(url, f.path, f.size, headers))


def _weights(url: str, f: HubFile, headers: dict[str, str], revision: str,
             scratch: Path) -> ReleaseFile:
    """Safetensors and GGUF are read by range on demand; a PyTorch zip is mirrored without
    its tensor data (the scanner maps it); any other pickle file (a legacy torch.save
    stream, whose length is only known by running through it) stays absent: a pointer."""
    if f.path.lower().endswith((".safetensors", ".gguf")):
        return _remote(url, f, headers, revision)
    fetcher = RangeFetcher(url, f.path, f.size, headers, block=MEMBER_BLOCK)
    if fetcher.read(0, 4) != b"PK\x03\x04":
        return _pointer(scratch, f)
    mirror = mirror_torch_zip(fetcher, scratch / "mirrors")
    st = mirror.stat()
    return ReleaseFile(path=f.path, abspath=mirror, size=f.size, mtime_ns=st.st_mtime_ns,
                       inode=st.st_ino, ctime_ns=st.st_ctime_ns, remote_sha256=f.lfs_sha256)


@dataclass(frozen=True)
class HubSource:
    kind: str = HUB_KIND

    def matches(self, target: str) -> bool:
        return target.startswith(PREFIX)

    def open(self, target: str) -> Release:
        from huggingface_hub import HfApi, hf_hub_url
        from huggingface_hub.utils._headers import build_hf_headers

        repo, wanted = parse_target(target)
        where = endpoint()
        token = os.environ.get("HF_TOKEN") or None  # None: huggingface_hub's own login
        api = HfApi(endpoint=where, token=token)
        info = hub_call(target, api.model_info, repo, revision=wanted, files_metadata=True)
        sha = getattr(info, "sha", None)
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{40}", sha):
            raise InputError(target, f"the hub at {where} gave no commit sha for {repo}")
        files = model_files(target, info)
        if not files:
            raise InputError(target, f"{repo}@{sha} has no files")
        headers = build_hf_headers(token=token)
        out: list[ReleaseFile] = []
        big: list[HubFile] = []
        root: Path | None = None
        scratch = Path(tempfile.mkdtemp(prefix="modelclear-hub-"))
        # pointers and zip mirrors live for the run only
        atexit.register(shutil.rmtree, scratch, True)
        for f in sorted(files, key=lambda f: f.path):
            if f.lfs_sha256 is not None and f.path.lower().endswith(RANGE_SUFFIXES):
                url = hf_hub_url(repo, f.path, revision=sha, endpoint=where)
                out.append(_weights(url, f, headers, sha, scratch))
            elif f.size <= SMALL_FILE or f.lfs_sha256 is None:
                rf, snapshot = _download(target, repo, sha, f, token)
                root = root or snapshot
                out.append(rf)
            else:
                big.append(f)
        out.extend(_pointer(scratch, f) for f in big)
        out.sort(key=lambda f: f.path)
        root = root or scratch
        return Release(
            source=SourceInfo(
                kind=self.kind, location=f"{where}/{repo}@{sha}", model_id=repo,
                revision=sha, refs=(wanted,) if wanted and wanted != sha else (),
                retrieved_at=datetime.now(UTC).isoformat(timespec="seconds"),
                gated=str(info.gated) if getattr(info, "gated", None) else None,
            ),
            root=root,
            files=tuple(out),
        )


SOURCE = HubSource()
