"""`ascl push BUILD --repo-id ORG/NAME`: upload a verified build to the Hugging Face Hub in one commit.

The build is verified first (a build that does not match its manifest is never pushed). The repo is created if
needed (private on request), then shards, rejects, card, lock, metrics and manifest go up in a single
`create_commit`, so the Hub never shows half a dataset. The token comes from huggingface_hub's usual sources
(HF_TOKEN, or the login cache) and is handed only to huggingface_hub: it is never printed, logged or written.
HF_ENDPOINT points the whole thing at another Hub (tests use a local one)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from .manifest import MANIFEST
from .verify import verify_build


class PushError(Exception):
    pass


def _operations(build_dir: Path):
    from huggingface_hub import CommitOperationAdd

    files = json.loads((build_dir / MANIFEST).read_text())["files"]
    # The manifest itself goes too (last in the listing; order does not matter inside one commit).
    return [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(build_dir / rel))
            for rel in sorted(files) + [MANIFEST]]


def _hex(digest) -> str:
    return digest.hex() if isinstance(digest, bytes) else str(digest)


def push_build(build: str | Path, repo_id: str, private: bool = False, dry_run: bool = False,
               revision: str | None = None) -> str:
    """Push (or, with dry_run, only prepare) a build; returns a one-line summary. Raises PushError."""
    from huggingface_hub import HfApi, get_token, is_offline_mode
    from huggingface_hub.errors import HfHubHTTPError

    build_dir = Path(build)
    problems = verify_build(build_dir)
    if problems:
        raise PushError(f"{build_dir} does not verify, nothing was sent: {problems[0]}"
                        + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    ops = _operations(build_dir)
    size = sum(Path(op.path_or_fileobj).stat().st_size for op in ops)
    build_id = json.loads((build_dir / MANIFEST).read_text()).get("build_id")
    message = f"ASCL build {build_id}"
    if dry_run:
        listing = "\n".join(f"  add {op.path_in_repo} ({op.upload_info.size} bytes, sha256 "
                            f"{_hex(op.upload_info.sha256)[:12]}…)" for op in ops)
        return f"dry run: one commit {message!r} to datasets/{repo_id} with {len(ops)} files, {size} bytes:\n{listing}"
    if is_offline_mode():
        raise PushError("HF_HUB_OFFLINE is set, so the Hub is off limits: unset it to push; nothing was sent")
    token = get_token()
    if not token:
        raise PushError("no Hugging Face token: set HF_TOKEN or run `hf auth login`; nothing was sent")
    # HF_ENDPOINT is read now, not when huggingface_hub was imported, so a caller can point at another Hub.
    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None, token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.create_commit(repo_id, ops, commit_message=message, repo_type="dataset", revision=revision)
    except HfHubHTTPError as e:
        status = getattr(e.response, "status_code", None)
        why = {401: "the token was rejected", 403: f"the token may not write to {repo_id}",
               404: f"{repo_id} was not found"}.get(status, f"the Hub answered {status}")
        raise PushError(f"{why}; no commit was made ({type(e).__name__})") from None
    except Exception as e:   # connection refused, timeouts: the transport's own error types vary by version
        raise PushError(f"could not reach the Hub ({type(e).__name__}: {str(e)[:200]}); no commit was made") \
            from None
    return f"pushed {len(ops)} files ({size} bytes) to datasets/{repo_id} in one commit: {info.commit_url}"
