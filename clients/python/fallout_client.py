"""fallout_client: a small Python client for a `fallout serve` server (standard library only).

Push test definitions, queue runs, wait for them and fetch their artifacts from Python, for
example from a pytest suite that treats a fallout run as one test (as the Fallout paper
describes for Jenkins and CI jobs)::

    from fallout_client import FalloutClient, FalloutError

    client = FalloutClient("http://127.0.0.1:8080", token)   # or FalloutClient.login(...)
    client.push_test("kv-smoke", open("kv-smoke.yaml").read())  # create, or replace
    run = client.start_run("kv-smoke", params={"duration": "10s"})
    run = client.wait_run(run["testRunId"], timeout=600)
    assert run["state"] == "PASSED", run["failureReason"]
    log = client.artifact(run, "fallout-shared.log")          # bytes

Runs are the server's TestRun JSON objects: owner, testName, testRunId, state (final ones
are PASSED, FAILED and ABORTED), failedDuring, failureReason, results {checkers, notes},
artifacts {path: bytes}. Every method that names a run accepts the run's JSON or its id.

Every failed request raises FalloutError(status, message): status is the HTTP status (0
when the server could not be reached), message what the server said.
"""
import json
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["FalloutClient", "FalloutError", "FINAL_STATES"]

FINAL_STATES = ("PASSED", "FAILED", "ABORTED")


class FalloutError(Exception):
    """A request the server refused (status is its HTTP status) or could not answer (0)."""

    def __init__(self, status, message, body=None):
        super().__init__(f"{message} (HTTP {status})" if status else message)
        self.status, self.message = status, message
        self.body = body  # the error's JSON, when there was one (400: {"errors": [...]})


def _q(s):
    return urllib.parse.quote(str(s), safe="@")


def _test_path(name, owner=None, rest="/api"):
    """"/tests/NAME" + rest, or "/tests/OWNER/NAME" + rest when owner is given."""
    return (f"/tests/{_q(owner)}/{_q(name)}" if owner else f"/tests/{_q(name)}") + rest


class FalloutClient:
    """A fallout server's REST API, as one user (an API token)."""

    def __init__(self, url, token=None, timeout=60):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._cookie = self._csrf = None

    # ---- plumbing ----
    def request(self, method, path, body=None, ctype=None, expect=(200, 201), raw=False):
        """Sends one request; returns the parsed JSON (or the bytes with raw=True). A status
        outside expect raises FalloutError."""
        headers = {"Accept": "application/json"}
        if isinstance(body, (dict, list)):
            body, ctype = json.dumps(body).encode(), "application/json"
        elif isinstance(body, str):
            body = body.encode()
        if ctype:
            headers["Content-Type"] = ctype
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self._cookie:
            headers["Cookie"] = self._cookie
            headers["X-CSRF-Token"] = self._csrf or ""
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                status, data, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, data, hdrs = e.code, e.read(), e.headers
        except (urllib.error.URLError, OSError) as e:
            raise FalloutError(0, f"cannot reach '{self.url}': {getattr(e, 'reason', e)}") from None
        self.last_status, self.last_headers = status, hdrs
        if status not in expect:
            raise self._error(status, data)
        if raw:
            return data
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return data.decode("utf-8", "replace")

    @staticmethod
    def _error(status, data):
        body = None
        try:
            body = json.loads(data)
            message = body.get("message") or body.get("error") or f"HTTP status {status}"
        except (ValueError, AttributeError):
            text = data.decode("utf-8", "replace").strip().splitlines()
            message = text[0][:300] if text else f"HTTP status {status}"
        return FalloutError(status, message, body)

    def _run(self, run):
        """The run's JSON, fetching it when given an id."""
        return run if isinstance(run, dict) else self.get_run(run)

    @staticmethod
    def _run_path(run, ui=False):
        if ui:
            return f"/tests/ui/{_q(run['owner'])}/{_q(run['testName'])}/{_q(run['testRunId'])}"
        return f"/tests/{_q(run['owner'])}/{_q(run['testName'])}/runs/{_q(run['testRunId'])}"

    # ---- accounts ----
    @classmethod
    def login(cls, url, email, password, label="python client"):
        """Signs in with email and password, creates an API token labelled label, and
        returns a client that uses it (the token is in client.token)."""
        c = cls(url)
        form = urllib.parse.urlencode({"email": email, "password": password})
        j = c.request("POST", "/account/login", form, "application/x-www-form-urlencoded", expect=(200,))
        cookie = c.last_headers.get("Set-Cookie", "")
        c._cookie, c._csrf = cookie.split(";")[0], (j or {}).get("csrfToken")
        token = c.request("POST", "/account/tokens/api", {"label": label}, expect=(200, 201))["token"]
        return cls(url, token)

    def whoami(self):
        """The signed-in user {name, email, admin, ...}."""
        return self.request("GET", "/account/api")

    # ---- tests ----
    def create_test(self, name, yaml_text):
        """Creates a test; FalloutError 409 when it exists, 400 when the definition is
        invalid (e.body["errors"] lists each with its line and column)."""
        return self.request("POST", _test_path(name), yaml_text, "application/x-yaml", expect=(200, 201))

    def replace_test(self, name, yaml_text):
        """Replaces a test's definition (the server keeps the old one as a version)."""
        return self.request("PUT", _test_path(name), yaml_text, "application/x-yaml", expect=(200, 201))

    def push_test(self, name, yaml_text):
        """Creates the test, or replaces its definition when it exists. Returns the Test JSON."""
        try:
            return self.create_test(name, yaml_text)
        except FalloutError as e:
            if e.status != 409:
                raise
        return self.replace_test(name, yaml_text)

    def get_test(self, name, owner=None):
        """A test's JSON, with its definition."""
        return self.request("GET", _test_path(name, owner))

    def list_tests(self, owner=None):
        """The user's tests (or owner's)."""
        return self.request("GET", f"/tests/{_q(owner)}/api" if owner else "/tests/api")

    def delete_test(self, name, forever=False):
        """Deletes a test (restorable unless forever)."""
        q = "?deleteforever=true" if forever else ""
        return self.request("DELETE", _test_path(name, rest="/api" + q), expect=(200, 204))

    # ---- runs ----
    def start_run(self, test, params=None, owner=None):
        """Queues a run of test with template parameters params (a dict). Returns the run."""
        return self.request("POST", _test_path(test, owner, "/runs/api"), {"jsonTemplateParams": params or {}},
                            expect=(200, 201))

    def get_run(self, run_id):
        """A run's JSON, by its id."""
        return self.request("GET", f"/tests/runs/{_q(run_id)}/api")

    def list_runs(self, test, owner=None, limit=20):
        """A test's runs, newest first (owner defaults to the signed-in user)."""
        owner = owner or self.whoami()["email"]
        return self.request("GET", _test_path(test, owner, f"/runs/api?limit={int(limit)}"))

    def wait_run(self, run, timeout=None, poll=0.5):
        """Polls run until it ends; returns its final JSON. Raises TimeoutError after timeout
        seconds (the run goes on: abort_run stops it)."""
        run_id = run["testRunId"] if isinstance(run, dict) else run
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            r = self.get_run(run_id)
            if r["state"] in FINAL_STATES:
                return r
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {r['state']} after {timeout}s")
            time.sleep(poll)

    def abort_run(self, run):
        """Asks the server to abort run; returns True, or False when it had already ended."""
        run = self._run(run)
        self.request("POST", self._run_path(run) + "/abort/api", expect=(200, 304))
        return self.last_status == 200

    # ---- artifacts ----
    def artifacts(self, run):
        """The run's artifacts: {path: size in bytes}."""
        run = self._run(run)
        return self.request("GET", self._run_path(run) + "/artifacts/api")

    def artifact(self, run, path):
        """One artifact's contents (bytes)."""
        run = self._run(run)
        return self.request("GET", self._run_path(run, ui=True) + "/artifacts/" + urllib.parse.quote(path),
                            expect=(200,), raw=True)

    def download_zip(self, run, file):
        """Saves every artifact of run as one zip archive in file (a path)."""
        run = self._run(run)
        data = self.request("GET", self._run_path(run, ui=True) + "/artifactsArchive", expect=(200,), raw=True)
        with open(file, "wb") as f:
            f.write(data)
        return file
