"""The one interface every source implements."""

from __future__ import annotations

from typing import Protocol

from ..release import Release

#: how a target names a repository on the hub (``hf://org/name[@revision]``)
HUB_PREFIX = "hf://"
#: the source kind records name for a release read from the hub
HUB_KIND = "hf-hub"


class Source(Protocol):
    @property
    def kind(self) -> str:
        """Which kind of source this is (``local-dir``, ``hf-cache``…), as records name it."""
        ...

    def matches(self, target: str) -> bool:
        """Whether this source understands ``target`` (cheap, no parsing)."""
        ...

    def open(self, target: str) -> Release:
        """Build the release; raise InputError for anything wrong with it."""
        ...


def fetch_hint(release: Release) -> str:
    """The command that brings the absent bytes: git-lfs in a clone, the hub client for a
    hub or cache snapshot (pinned to the revision when it is known)."""
    src = release.source
    hub = ""
    if src.model_id and "/" in src.model_id:
        rev = f" --revision {src.revision}" if src.revision else ""
        hub = f"huggingface-cli download {src.model_id}{rev}"
    if src.kind == "local-dir" and (release.root / ".git").exists():
        return f"git lfs pull (in {release.root})" + (f", or {hub}" if hub else "")
    if hub:
        return hub
    return f"git lfs pull in the clone, or huggingface-cli download ORG/NAME --revision SHA " \
           f"into {release.root}"


def require_bytes(release: Release, purpose: str) -> None:
    """Refuse a command that must read every byte (hashing, verify) when some weights are
    Git LFS pointers, missing shards or only on the hub: one line naming what to run."""
    from ..analyzers.absent import absent_files
    from ..errors import InputError

    absent = [a.path for a in absent_files(release)]
    remote = [f.path for f in release.files if f.remote_sha256 is not None]
    gone = absent + remote
    if gone:
        shown = ", ".join(gone[:3]) + (f" and {len(gone) - 3} more" if len(gone) > 3 else "")
        raise InputError(release.source.location, f"{purpose} needs the weights' bytes, but "
                         f"{shown} {'is' if len(gone) == 1 else 'are'} not here; run "
                         f"{fetch_hint(release)}")
