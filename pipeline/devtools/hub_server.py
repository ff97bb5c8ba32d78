"""A local stand-in for the Hugging Face Hub's HTTP API, enough for huggingface_hub's create_repo and
create_commit (regular, non-LFS uploads), for tests of `ascl push`. It checks the bearer token, refuses writes
to repos listed as forbidden, can fail every commit with a 500, and stores each accepted commit whole (a commit
either lands with all its files or not at all)."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
from typing import Any


class HubTestServer:
    def __init__(self, token: str = "hf_test_token", forbidden: tuple[str, ...] = (), fail_commits: bool = False):
        self.token, self.forbidden, self.fail_commits = token, forbidden, fail_commits
        self.repos: dict[str, dict[str, Any]] = {}           # repo id -> {"private": bool}
        self.commits: list[dict[str, Any]] = []               # {"repo", "revision", "message", "files": {path: bytes}}
        self.requests: list[tuple[str, str]] = []
        self.auth_headers: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner = None
        self.url = ""

    def _authorized(self, request) -> bool:
        header = request.headers.get("Authorization", "")
        self.auth_headers.append(header)
        return header == f"Bearer {self.token}"

    async def _handle(self, request):
        from aiohttp import web

        body = await request.read()
        path = request.path
        self.requests.append((request.method, path))
        if path == "/api/agent-harnesses":
            return web.json_response([])
        if not self._authorized(request):
            return web.json_response({"error": "Invalid credentials in Authorization header"}, status=401)
        if path == "/api/repos/create":
            data = json.loads(body)
            repo = f"{data['organization']}/{data['name']}" if data.get("organization") else data["name"]
            if repo in self.forbidden:
                return web.json_response({"error": "You don't have the rights to create this repo"}, status=403)
            if repo in self.repos:
                return web.json_response({"error": "You already created this dataset repo"}, status=409)
            self.repos[repo] = {"private": data.get("visibility") == "private" or bool(data.get("private"))}
            return web.json_response({"url": f"{self.url}/datasets/{repo}", "name": repo})
        if path == "/api/validate-yaml":
            return web.json_response({"errors": [], "warnings": []})
        parts = path.split("/")   # /api/datasets/<org>/<name>/<action>/<revision>
        if len(parts) >= 7 and parts[2] == "datasets":
            repo, action, revision = f"{parts[3]}/{parts[4]}", parts[5], "/".join(parts[6:])
            if repo not in self.repos:
                return web.json_response({"error": "Repository not found"}, status=404)
            if action == "preupload":
                files = json.loads(body)["files"]
                return web.json_response({"files": [{"path": f["path"], "uploadMode": "regular",
                                                     "shouldIgnore": False} for f in files]})
            if action == "commit":
                if self.fail_commits:
                    return web.json_response({"error": "Internal Error"}, status=500)
                commit = {"repo": repo, "revision": revision, "files": {}, "message": ""}
                for line in body.decode().splitlines():
                    item = json.loads(line)
                    if item["key"] == "header":
                        commit["message"] = item["value"]["summary"]
                    elif item["key"] == "file":
                        commit["files"][item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                oid = hashlib.sha1(repr(sorted(commit["files"])).encode()).hexdigest()
                self.commits.append(commit)
                return web.json_response({"commitUrl": f"{self.url}/datasets/{repo}/commit/{oid}",
                                          "commitOid": oid, "success": True})
        return web.json_response({"error": f"not implemented: {path}"}, status=404)

    def __enter__(self) -> str:
        from aiohttp import web

        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application(client_max_size=1 << 30)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}"
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self.url

    def __exit__(self, *exc) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
