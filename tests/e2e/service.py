"""Helpers for the end-to-end tests of `fallout serve`: start a real server on a free
loopback port with a private data folder, talk to it with the standard library only, and
stop it (checking it left no run process behind)."""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from runs import pgrep

ADMIN = ("admin", "admin@example.com", "admin-password-1")


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


class Client:
    """A minimal HTTP client: a base URL, an optional Bearer token or session cookie."""

    def __init__(self, url, token=None):
        self.url, self.token, self.cookie, self.csrf = url.rstrip("/"), token, None, None

    def request(self, method, path, body=None, headers=None, ctype=None, timeout=30):
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body, ctype = json.dumps(body).encode(), ctype or "application/json"
        elif isinstance(body, str):
            body = body.encode()
        if ctype:
            h["Content-Type"] = ctype
        if self.token:
            h.setdefault("Authorization", f"Bearer {self.token}")
        if self.cookie:
            h.setdefault("Cookie", self.cookie)
            if self.csrf and method not in ("GET", "HEAD"):
                h.setdefault("X-CSRF-Token", self.csrf)
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, email, password):
        """Signs in with the form, as a browser does: keeps the cookie and the CSRF token."""
        r = self.post("/account/login", urllib.parse.urlencode({"email": email, "password": password}),
                      ctype="application/x-www-form-urlencoded")
        if r.status == 200:
            self.cookie = r.headers["Set-Cookie"].split(";")[0]
            self.csrf = r.json()["csrfToken"]
        return r


def token_for(url, email, password, label="e2e"):
    """Signs in and creates an API token; returns a Client using it."""
    c = Client(url)
    r = c.login(email, password)
    assert r.status == 200, r.text
    r = c.post("/account/tokens/api", {"label": label})
    assert r.status == 201, r.text
    return Client(url, r.json()["token"])


class Server:
    """A running `fallout serve`; use as a context manager or call stop()."""

    def __init__(self, exe, data, config=None, env=None, listen="127.0.0.1:0"):
        self.exe, self.data = exe, Path(data)
        self.data.mkdir(parents=True, exist_ok=True)
        args = [exe, "serve", "--listen", listen, "--data", str(self.data)]
        if config is not None:
            cfg = self.data.parent / f"{self.data.name}-config.yaml"
            cfg.write_text(config)
            args += ["--config", str(cfg)]
        e = dict(os.environ)
        e.pop("FALLOUT_LIBRARY", None)
        e.setdefault("FALLOUT_ADMIN_CREDS", ":".join(ADMIN))
        e.update(env or {})
        self.log = open(self.data.parent / f"{self.data.name}-server.log", "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=e)
        info = self.data / "server.json"
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fallout serve exited {self.proc.returncode}: {self.log_text()}")
            try:
                j = json.loads(info.read_text())
                if j.get("pid") == self.proc.pid:
                    self.url = j["url"]
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"fallout serve did not start: {self.log_text()}")
            time.sleep(0.02)

    def log_text(self):
        self.log.flush()
        return (self.data.parent / f"{self.data.name}-server.log").read_text(errors="replace")

    def client(self, token=None):
        return Client(self.url, token)

    def admin(self):
        return token_for(self.url, ADMIN[1], ADMIN[2], "admin")

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout)
        self.log.close()
        return self.proc.returncode

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def wait_run(client, owner, test, run_id, states=("PASSED", "FAILED", "ABORTED"), timeout=120):
    """Polls a run until its state is one of states; returns its JSON."""
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/tests/{owner}/{test}/runs/{run_id}/api")
        assert r.status == 200, r.text
        run = r.json()
        if run["state"] in states:
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['state']}"
        time.sleep(0.1)


def run_processes(data):
    """The pids of processes whose command line mentions the data folder (run processes)."""
    return pgrep("-f", str(Path(data).resolve()))


# ---- more helpers (H8): users, definitions, runs ----

def create_user(admin, name, password=None, is_admin=False):
    """Has the admin client create a user NAME (email NAME@example.com); returns a Client
    holding an API token of that user, with .email and .password set."""
    email, password = f"{name}@example.com", password or f"{name}-password-1"
    r = admin.post("/account/users/api", {"name": name, "email": email, "password": password, "admin": is_admin})
    assert r.status == 201, r.text
    c = token_for(admin.url, email, password, name)
    c.email, c.password = email, password
    return c


def items(j):
    """The entries of a listing response, which is a JSON array."""
    assert isinstance(j, list), f"a listing is not a JSON array: {j!r}"
    return j


def definition(script="echo hello; sleep 0.1", checker=True):
    """A small one-node definition running script with the bash module."""
    lines = ["workload:", "  phases:", "    - hello:", "        module: bash", "        properties:",
             "          script: |"]
    lines += ["            " + s for s in script.splitlines()]
    if checker:
        lines += ["  checkers:", "    ok:", "      checker: nofail"]
    return "\n".join(lines) + "\n"


def sleep_definition(duration="60s"):
    """A definition whose only module sleeps for duration."""
    return ("workload:\n  phases:\n    - wait:\n        module: sleep\n        properties:\n"
            f"          duration: {duration}\n")


def create_test(client, name, text):
    r = client.post(f"/tests/{name}/api", text, ctype="application/x-yaml")
    assert r.status == 201, r.text
    return r.json()


def start_run(client, name, params=None, owner=None, expect=201):
    """Queues a run of a test (the caller's own, or owner's); returns its run id."""
    path = f"/tests/{owner}/{name}/runs/api" if owner else f"/tests/{name}/runs/api"
    r = client.post(path, {"jsonTemplateParams": params or {}})
    assert r.status == expect, r.text
    return r.json()["testRunId"] if expect == 201 else None


def run_dir(data, run_id):
    """The run's folder on disk: <data>/runs/<owner>/<test>/<run id>."""
    found = list(Path(data).glob(f"runs/*/*/{run_id}"))
    assert len(found) == 1, f"run folder of {run_id}: {found}"
    return found[0]


def other_processes(server):
    """Processes mentioning the server's data folder, other than the server itself."""
    return [p for p in run_processes(server.data) if p != server.proc.pid]


@pytest.fixture
def serve(fallout_test, tmp_path):
    """Starts servers in tmp_path (serve(config=..., env=..., name=...)); stops them at the end
    and kills any run process they left (a test that cares asserts there are none)."""
    started = []

    def start(config=None, env=None, name="data"):
        s = Server(fallout_test.path, tmp_path / name, config=config, env=env)
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.stop()
        elif not s.log.closed:
            s.log.close()
    for s in started:  # every server is down: whatever still mentions a data folder is a leftover run
        for pid in run_processes(s.data):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
