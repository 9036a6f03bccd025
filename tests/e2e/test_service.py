"""End to end: `fallout serve` as its users see it (issue 7's "Done when"). Every test starts
its own server on a free loopback port with a private data folder (tests/e2e/service.py),
talks to it over HTTP, and checks what a user or a CI script would see."""
import gzip
import http.client
import io
import json
import os
import re
import shlex
import subprocess
import time
import urllib.parse
import zipfile

from conftest import ROOT
from runs import wait_until
from service import (ADMIN, create_test, create_user, definition, items, other_processes, run_dir, run_processes,
                     serve, sleep_definition, start_run, wait_run)  # noqa: F401 (serve: a fixture)

FINAL = ("PASSED", "FAILED", "ABORTED")
QUEUED = ("CREATED", "WAITING_FOR_RESOURCES")
# The TestRun keys of FALLOUT-FORMAT.md 6 (Fallout's JSON shape).
RUN_KEYS = {"owner", "testName", "testRunId", "createdAt", "startedAt", "finishedAt", "state", "failedDuring",
            "definition", "results", "artifacts", "templateParams", "keepForever"}
TEST_KEYS = {"owner", "name", "testId", "createdAt", "lastRunAt", "definition", "tags", "sizeOnDiskBytes"}


def routes_table():
    """(method, path, auth) of every route in src/server/routes.c."""
    text = (ROOT / "src/server/routes.c").read_text()
    return re.findall(r'\{"(GET|POST|PUT|DELETE)", "([^"]+)", \w+, (FO_AUTH_\w+)', text)


def assert_no_run_processes(server, timeout=30):
    wait_until(lambda: not other_processes(server), timeout, "the run processes to end")


def started_order(client, runs):
    """Run labels sorted by their startedAt (ISO strings sort in time order)."""
    got = {label: client.get(f"/tests/{o}/{t}/runs/{r}/api").json() for label, (o, t, r) in runs.items()}
    for label, run in got.items():
        assert run["startedAt"], f"{label} has no startedAt: {run}"
    return [label for label, _ in sorted(got.items(), key=lambda kv: kv[1]["startedAt"])]


# ---- users: read everyone's, change only one's own ----

def test_two_users_read_each_other_but_change_only_their_own(serve):
    s = serve()
    admin = s.admin()
    a, b = create_user(admin, "alice"), create_user(admin, "bob")
    create_test(a, "shared", definition("echo alice"))
    create_test(b, "bees", definition("echo bob"))
    ra = start_run(a, "shared")
    rb = start_run(b, "bees")
    assert wait_run(a, a.email, "shared", ra)["state"] == "PASSED"
    assert wait_run(b, b.email, "bees", rb)["state"] == "PASSED"

    # each reads the other's tests and runs
    assert b.get(f"/tests/{a.email}/shared/api").status == 200
    assert b.get(f"/tests/{a.email}/api").status == 200
    assert b.get(f"/tests/{a.email}/shared/runs/{ra}/api").status == 200
    assert b.get(f"/tests/{a.email}/shared/runs/api").status == 200
    assert a.get(f"/tests/{b.email}/bees/runs/{rb}/api").json()["state"] == "PASSED"
    assert [t["name"] for t in items(a.get(f"/tests/{b.email}/api").json())] == ["bees"]

    # bob may change nothing of alice's
    assert b.put(f"/tests/{a.email}/shared/api", definition("echo bob was here"),
                 ctype="application/x-yaml").status == 403
    assert b.delete(f"/tests/{a.email}/shared/api").status == 403
    assert b.post(f"/tests/{a.email}/shared/runs/api", {"jsonTemplateParams": {}}).status == 403
    assert b.post(f"/tests/{a.email}/shared/runs/{ra}/abort/api").status == 403
    assert b.post(f"/tests/{a.email}/shared/runs/{ra}/setKeepForever/api").status == 403
    assert b.post(f"/tests/{a.email}/shared/runs/{ra}/rerun/api", {"clone": True}).status == 403
    assert b.put(f"/tests/{a.email}/shared/tags/api", ["mine"]).status == 403
    assert b.delete(f"/tests/{a.email}/shared/runs/{ra}/api").status == 403
    # ... and nothing changed
    t = a.get("/tests/shared/api").json()
    assert "alice" in t["definition"] and "bob" not in t["definition"]
    assert a.get(f"/tests/{a.email}/shared/runs/{ra}/api").status == 200
    assert len(items(a.get(f"/tests/{a.email}/shared/runs/api").json())) == 1

    # bob clones alice's test into his own and runs the clone
    r = b.post(f"/tests/{a.email}/shared/clone/api", {"name": "mine"})
    assert r.status == 201, r.text
    assert b.get("/tests/mine/api").json()["owner"] == b.email
    rc = start_run(b, "mine")
    assert wait_run(b, b.email, "mine", rc)["state"] == "PASSED"

    # an admin may change alice's test
    r = admin.put(f"/tests/{a.email}/shared/api", definition("echo changed by the admin"),
                  ctype="application/x-yaml")
    assert r.status == 200, r.text
    assert "changed by the admin" in a.get("/tests/shared/api").json()["definition"]


# ---- a run through the API ----

PARAMS_DEF = """greeting: hello
times: 1
---
workload:
  phases:
    - hello:
        module: bash
        properties:
          script: |
            echo "{{greeting}} x{{times}}"
            sleep 0.1
  checkers:
    ok:
      checker: nofail
"""


def test_a_run_passes_with_fallout_json_and_its_artifacts_download(serve):
    s = serve()
    c = s.admin()
    me = ADMIN[1]
    t = create_test(c, "hello", PARAMS_DEF)
    assert TEST_KEYS <= set(t), t
    r = c.post("/tests/hello/runs/api", {"jsonTemplateParams": {"greeting": "bonjour"}})
    assert r.status == 201, r.text
    run_id = r.json()["testRunId"]
    loc = r.headers["Location"]
    assert loc.endswith(f"/tests/{me}/hello/runs/{run_id}/api"), loc
    path = urllib.parse.urlsplit(loc).path if loc.startswith("http") else loc
    assert c.get(path).status == 200

    run = wait_run(c, me, "hello", run_id)
    assert run["state"] == "PASSED", run
    assert RUN_KEYS <= set(run), RUN_KEYS - set(run)
    assert (run["owner"], run["testName"], run["testRunId"]) == (me, "hello", run_id)
    assert run["failedDuring"] is None and run["keepForever"] is False
    assert run["createdAt"] <= run["startedAt"] <= run["finishedAt"]
    assert run["templateParams"]["greeting"] == "bonjour"
    # the definition is shown with its parameters (FALLOUT-FORMAT.md 1.1)
    d = run["definition"]
    assert d.startswith(f"# PARAMETERS FOR TEST RUN {me}, hello, {run_id}:"), d
    assert "greeting: bonjour" in d and "# DEFAULT PARAMETERS:" in d and "\n---\n" in d
    assert re.search(r"^#\s*greeting: hello$", d, re.M), d
    r = c.get(f"/tests/{me}/hello/runs/{run_id}/definition")
    assert r.status == 200 and "greeting: bonjour" in r.text

    # the same run by its id alone, and in the listings
    assert c.get(f"/tests/runs/{run_id}/api").json()["testRunId"] == run_id
    listed = items(c.get(f"/tests/{me}/hello/runs/api").json())
    assert [x["testRunId"] for x in listed] == [run_id]
    assert run_id in [x["testRunId"] for x in items(c.get("/runs/api").json())]

    # artifacts: listed with their sizes on disk
    folder = run_dir(s.data, run_id)
    arts = run["artifacts"]
    assert {"testrun.json", "fallout-shared.log"} <= set(arts), arts
    listing = c.get(f"/tests/{me}/hello/runs/{run_id}/artifacts/api").json()
    assert listing == arts
    for p, size in arts.items():
        assert (folder / p).stat().st_size == size, p
    # one downloads with the same bytes as on disk
    r = c.get(f"/tests/ui/{me}/hello/{run_id}/artifacts/fallout-shared.log")
    assert r.status == 200 and r.body == (folder / "fallout-shared.log").read_bytes()
    r = c.get(f"/tests/ui/{me}/hello/{run_id}/artifacts/{node_log(run)}")
    assert r.status == 200 and b"bonjour x1" in r.body
    # the zip holds the same files
    r = c.get(f"/tests/ui/{me}/hello/{run_id}/artifactsArchive")
    assert r.status == 200
    z = zipfile.ZipFile(io.BytesIO(r.body))
    assert z.testzip() is None
    files = [n for n in z.namelist() if not n.endswith("/")]
    top = {n.split("/", 1)[0] for n in files}
    strip = len(top) == 1 and top.pop() not in arts  # everything inside one folder named after the run
    names = {n.split("/", 1)[1] if strip else n: n for n in files}
    assert set(names) == set(arts)
    for short, n in names.items():
        assert z.read(n) == (folder / short).read_bytes(), n

    # a failing run fails, with failedDuring
    create_test(c, "boom", definition("exit 1"))
    rid = start_run(c, "boom")
    run = wait_run(c, me, "boom", rid)
    assert run["state"] == "FAILED" and run["failedDuring"], run

    # re-run with clone
    r = c.post(f"/tests/{me}/hello/runs/{run_id}/rerun/api", {"clone": True})
    assert r.status == 201, r.text
    again = wait_run(c, me, "hello", r.json()["testRunId"])
    assert again["state"] == "PASSED" and again["templateParams"]["greeting"] == "bonjour"


def test_yaml_template_params(serve):
    s = serve()
    c = s.admin()
    create_test(c, "hello", PARAMS_DEF)
    r = c.post("/tests/hello/runs/api", {"yamlTemplateParams": "greeting: salut\ntimes: 3\n"})
    assert r.status == 201, r.text
    run = wait_run(c, ADMIN[1], "hello", r.json()["testRunId"])
    assert run["state"] == "PASSED"
    assert run["templateParams"] == {"greeting": "salut", "times": 3}
    # a tag without a value is refused before anything is queued
    create_test(c, "needs", "workload:\n  phases:\n    - x:\n        module: sleep\n        properties:\n"
                "          duration: '{{d}}'\n")
    r = c.post("/tests/needs/runs/api", {"jsonTemplateParams": {}})
    assert r.status == 400 and "d" in r.json()["message"], r.text


# ---- the tests API ----

def test_tests_api_create_replace_versions_delete_restore(serve):
    s = serve()
    c = s.admin()
    me = ADMIN[1]
    r = c.post("/tests/t1/api", definition("echo v1"), ctype="application/x-yaml")
    assert r.status == 201, r.text
    assert r.json()["name"] == "t1" and r.json()["owner"] == me
    assert c.post("/tests/t1/api", definition("echo again"), ctype="application/x-yaml").status == 409

    # invalid: every error with its line
    bad = ("workload:\n  phases:\n    - nap:\n        module: sleep\n        properties:\n"
           "          duraton: 1s\n    - boom:\n        module: nosuchmodule\n")
    r = c.post("/tests/bad/api", bad, ctype="application/x-yaml")
    assert r.status == 400, r.text
    errs = r.json()["errors"]
    assert {6, 8} <= {e["line"] for e in errs}, errs
    assert any("duraton" in e["message"] for e in errs)
    r = c.post("/tests/bad/api", "workload: [\n", ctype="application/x-yaml")
    assert r.status == 400 and all(isinstance(e["line"], int) for e in r.json()["errors"]), r.text
    assert c.get("/tests/bad/api").status == 404
    # validate without saving
    assert c.post("/tests/validate/api", definition(), ctype="application/x-yaml").status == 200
    r = c.post("/tests/validate/api", bad, ctype="application/x-yaml")
    assert r.status == 400 and {6, 8} <= {e["line"] for e in r.json()["errors"]}

    # reads
    assert c.get("/tests/t1/api").json()["definition"] == definition("echo v1")
    assert c.get(f"/tests/{me}/t1/api").json()["name"] == "t1"
    r = c.get(f"/tests/{me}/t1/t1.yaml")
    assert r.status == 200 and r.text == definition("echo v1")
    assert [t["name"] for t in items(c.get("/tests/api").json())] == ["t1"]

    # replace makes version 2; both are listed
    r = c.put("/tests/t1/api", definition("echo v2"), ctype="application/x-yaml")
    assert r.status == 200, r.text
    assert c.put("/tests/t1/api", bad, ctype="application/x-yaml").status == 400
    assert c.get("/tests/t1/api").json()["definition"] == definition("echo v2")
    vs = items(c.get(f"/tests/{me}/t1/versions/api").json())
    assert [v["version"] for v in vs] == [2, 1], vs
    r = c.get(f"/tests/{me}/t1/versions/1/api")
    assert r.status == 200 and "echo v1" in r.json()["definition"]

    # tags
    assert c.put(f"/tests/{me}/t1/tags/api", ["nightly", "smoke"]).status == 200
    assert sorted(c.get("/tests/t1/api").json()["tags"]) == ["nightly", "smoke"]

    # soft delete, restore, delete for ever
    assert c.delete("/tests/t1/api").status == 200
    assert c.get("/tests/t1/api").status == 404
    assert "t1" not in [t["name"] for t in items(c.get("/tests/api").json())]
    assert [t["name"] for t in items(c.get("/tests/deleted/api").json())] == ["t1"]
    assert c.post("/tests/t1/restore/api").status == 200
    assert c.get("/tests/t1/api").json()["definition"] == definition("echo v2")
    assert items(c.get("/tests/deleted/api").json()) == []
    assert c.delete("/tests/t1/api?deleteforever=true").status == 200
    assert c.get("/tests/t1/api").status == 404
    assert items(c.get("/tests/deleted/api").json()) == []
    assert c.post("/tests/t1/restore/api").status == 404


# ---- abort ----

def test_abort_a_running_run(serve):
    s = serve()
    c = s.admin()
    me = ADMIN[1]
    create_test(c, "long", sleep_definition("60s"))
    rid = start_run(c, "long")
    wait_run(c, me, "long", rid, states=("RUNNING",), timeout=30)
    t0 = time.monotonic()
    r = c.post(f"/tests/{me}/long/runs/{rid}/abort/api")
    assert r.status == 200, r.text
    run = wait_run(c, me, "long", rid, timeout=30)
    took = time.monotonic() - t0
    assert run["state"] == "ABORTED", run
    assert took < 30, f"abort took {took:.1f} s"
    assert c.post(f"/tests/{me}/long/runs/{rid}/abort/api").status == 304
    assert_no_run_processes(s)
    # a queued run aborts too (the queue is paused so it cannot start)
    assert c.post("/admin/queue/pause/api").status == 200
    rid2 = start_run(c, "long")
    assert c.get(f"/tests/{me}/long/runs/{rid2}/api").json()["state"] in QUEUED
    assert c.post(f"/tests/{me}/long/runs/{rid2}/abort/api").status == 200
    assert wait_run(c, me, "long", rid2, timeout=10)["state"] == "ABORTED"
    # only a finished run may be deleted; then it is gone with its folder
    folder = run_dir(s.data, rid)
    assert c.delete(f"/tests/{me}/long/runs/{rid}/api").status == 200
    assert c.get(f"/tests/{me}/long/runs/{rid}/api").status == 404
    assert not folder.exists()


# ---- kill -9 of the server ----

def test_kill_9_of_the_server_loses_nothing_and_leaves_no_orphan(serve):
    cfg = "queue:\n  max_running: 1\n"
    s = serve(config=cfg)
    c = s.admin()
    me = ADMIN[1]
    create_test(c, "quick", definition("echo quick"))
    create_test(c, "slow", definition("echo slow start\nsleep 3\necho slow end"))
    done = start_run(c, "quick")
    assert wait_run(c, me, "quick", done)["state"] == "PASSED"
    before = c.get(f"/tests/{me}/quick/runs/{done}/api").json()
    running = start_run(c, "slow")
    queued = start_run(c, "quick")
    wait_run(c, me, "slow", running, states=("RUNNING",), timeout=30)
    assert c.get(f"/tests/{me}/quick/runs/{queued}/api").json()["state"] in QUEUED
    s.kill()

    s2 = serve(config=cfg)  # same data folder
    c2 = s2.admin()
    # (a) the finished run keeps its result
    after = c2.get(f"/tests/{me}/quick/runs/{done}/api").json()
    assert after["state"] == "PASSED"
    assert after["finishedAt"] == before["finishedAt"] and after["artifacts"] == before["artifacts"]
    # (b) the running one is re-adopted (ends with its real result) or aborted with a reason
    run = wait_run(c2, me, "slow", running, timeout=60)
    assert run["state"] in ("PASSED", "ABORTED"), run
    if run["state"] == "ABORTED":
        assert run.get("failureReason"), run
    else:
        log = c2.get(f"/tests/ui/{me}/slow/{running}/artifacts/{node_log(run)}").text
        assert "slow end" in log
    # (c) the queued one still runs
    assert wait_run(c2, me, "quick", queued, timeout=60)["state"] == "PASSED"
    assert_no_run_processes(s2)
    # each run's spool folder is removed when it ends
    assert not [p for p in (s2.data / "spool").glob("*")], list((s2.data / "spool").glob("*"))
    assert c2.get("/status/runningTestsCount").json() == 0
    s2.stop()
    assert run_processes(s2.data) == []


def test_a_start_cut_short_by_the_server_dying(serve, fallout_test):
    # The server died between starting a run's process and recording it (a moment): the
    # next server finds the process by its run id and re-adopts it, instead of starting the
    # run a second time; a start that got no further than its spool folder is started again.
    s = serve()
    c = s.admin()
    me = ADMIN[1]
    slow = definition("echo slow start\nsleep 2\necho slow end")
    create_test(c, "slow", slow)
    create_test(c, "quick", definition("echo quick"))
    assert c.post("/admin/queue/pause/api").status == 200
    adopted, restarted = start_run(c, "slow"), start_run(c, "quick")
    s.stop()
    # what the dead server had done for each: the spool folder, and for one the process
    for rid in (adopted, restarted):
        (s.data / "spool" / rid).mkdir(parents=True)
    src = s.data / "spool" / adopted / "slow.yaml"
    src.write_text(slow)
    run_dir = s.data / "runs" / me / "slow" / adopted
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, FALLOUT_STATE_DIR=str(s.data / "state"))
    proc = subprocess.Popen([fallout_test.path, "exec", "-o", str(run_dir), "--run-id", adopted, "--owner", me,
                             "--test-name", "slow", str(src)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        s2 = serve()  # same data folder
        c2 = s2.admin()
        run = wait_run(c2, me, "slow", adopted, timeout=60)
        assert run["state"] == "PASSED", run  # a second process would have found its folder in use
        assert "slow end" in c2.get(f"/tests/ui/{me}/slow/{adopted}/artifacts/{node_log(run)}").text
        assert proc.wait(30) == 0
        assert wait_run(c2, me, "quick", restarted, timeout=60)["state"] == "PASSED"
        assert "re-adopted" in s2.log_text() and "stays queued" in s2.log_text()
        assert_no_run_processes(s2)
        assert not list((s2.data / "spool").glob("*"))
    finally:
        if proc.poll() is None:
            proc.kill()


def node_log(run):
    """The log of the server group's node, where the bash module's script output goes."""
    logs = [p for p in run["artifacts"] if re.fullmatch(r"server/node0/fallout-node\.log(\.gz)?", p)]
    assert logs, run["artifacts"]
    return logs[0].removesuffix(".gz")


# ---- the queue ----

def test_fair_order_with_one_run_at_a_time(serve):
    s = serve(config="queue:\n  max_running: 1\n")
    admin = s.admin()
    a, b = create_user(admin, "alice"), create_user(admin, "bob")
    create_test(a, "nap", sleep_definition("300ms"))
    create_test(b, "nap", sleep_definition("300ms"))
    runs = {}
    for i in (1, 2, 3):
        runs[f"A{i}"] = (a.email, "nap", start_run(a, "nap"))
    runs["B1"] = (b.email, "nap", start_run(b, "nap"))
    for label, (o, t, r) in runs.items():
        assert wait_run(admin, o, t, r, timeout=60)["state"] == "PASSED", label
    assert started_order(admin, runs) == ["A1", "B1", "A2", "A3"]
    # one at a time: no two runs overlap
    spans = sorted(tuple(admin.get(f"/tests/{o}/{t}/runs/{r}/api").json()[k] for k in ("startedAt", "finishedAt"))
                   for o, t, r in runs.values())
    for (s1, f1), (s2_, _) in zip(spans, spans[1:]):
        assert f1 <= s2_, spans


def test_node_limit_waits_and_refuses_what_can_never_fit(serve):
    # a definition without an ensemble uses 1 local node (server and client are one group;
    # the implicit observer and controller groups, where checkers run, are not counted):
    # the limit fits one such run at a time
    s = serve(config="queue:\n  nodes:\n    local: 1\n")
    c = s.admin()
    me = ADMIN[1]
    create_test(c, "nap", sleep_definition("2s"))
    two = ("ensemble:\n  server:\n    node.count: 2\n    provisioner: local\n  client: server\n"
           "workload:\n  phases:\n    - x:\n        module: sleep\n        properties:\n          duration: 1ms\n")
    create_test(c, "two", two)
    first = start_run(c, "nap")
    second = start_run(c, "nap")
    wait_run(c, me, "nap", first, states=("RUNNING",), timeout=30)
    # the second needs the local nodes in use: it waits for resources
    assert c.get(f"/tests/{me}/nap/runs/{second}/api").json()["state"] in QUEUED
    big = start_run(c, "two")
    run = wait_run(c, me, "two", big, timeout=10)
    assert run["state"] == "FAILED", run
    reason = run.get("failureReason") or ""
    assert "needs 2 'local' nodes" in reason and "allows 1" in reason, reason
    assert wait_run(c, me, "nap", second, timeout=30)["state"] == "PASSED"
    q = c.get("/admin/queue/api").json()
    assert q["paused"] is False and q["running"] == 0 and q["queued"] == 0


def test_pause_and_resume_the_queue(serve):
    s = serve()
    admin = s.admin()
    a = create_user(admin, "alice")
    me = a.email
    assert a.post("/admin/queue/pause/api").status == 403
    assert admin.post("/admin/queue/pause/api").status == 200
    assert admin.get("/admin/queue/api").json()["paused"] is True
    create_test(a, "hello", definition())
    rid = start_run(a, "hello")
    # while paused it stays queued (watched for a second)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        assert a.get(f"/tests/{me}/hello/runs/{rid}/api").json()["state"] in QUEUED
        time.sleep(0.1)
    assert a.post("/admin/queue/resume/api").status == 403
    assert admin.post("/admin/queue/resume/api").status == 200
    assert wait_run(a, me, "hello", rid, timeout=60)["state"] == "PASSED"
    assert admin.get("/admin/queue/api").json()["paused"] is False


def test_drain_waits_for_the_running_runs(serve):
    s = serve()
    admin = s.admin()
    me = ADMIN[1]
    create_test(admin, "slow", definition("sleep 2"))
    rid = start_run(admin, "slow")
    wait_run(admin, me, "slow", rid, states=("RUNNING",), timeout=30)
    # not drained yet: 503 at once, the queue now paused
    r = admin.post("/admin/queue/drain/api?timeout=0")
    assert r.status == 503 and r.json()["paused"] is True and r.json()["running"] == 1, r.text
    queued = start_run(admin, "slow")
    # drained once the run has ended; the queued run did not start
    r = admin.post("/admin/queue/drain/api?timeout=60", timeout=90)
    assert r.status == 200 and r.json()["running"] == 0, r.text
    assert admin.get(f"/tests/{me}/slow/runs/{rid}/api").json()["state"] == "PASSED"
    assert admin.get(f"/tests/{me}/slow/runs/{queued}/api").json()["state"] in QUEUED
    assert admin.post("/admin/queue/drain/api?timeout=x").status == 400
    assert create_user(admin, "bob").post("/admin/queue/drain/api").status == 403
    assert admin.post("/admin/queue/resume/api").status == 200
    assert wait_run(admin, me, "slow", queued, timeout=60)["state"] == "PASSED"


# ---- live logs ----

def read_events(url, path, token, timeout=60):
    """Reads a server-sent event stream to its end; returns [(event, data)]."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
    r = conn.getresponse()
    assert r.status == 200, r.read()
    assert r.getheader("Content-Type", "").startswith("text/event-stream")
    events, ev, data = [], None, []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = r.fp.readline()
        if not line:
            break
        line = line.decode().rstrip("\r\n")
        if line == "":
            if ev or data:
                events.append((ev or "message", "\n".join(data)))
                if ev == "finished":
                    break
            ev, data = None, []
        elif line.startswith("event:"):
            ev = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    conn.close()
    return events


def test_live_log_as_server_sent_events(serve):
    s = serve()
    c = s.admin()
    me = ADMIN[1]
    create_test(c, "chatty", definition("for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.25; done"))
    rid = start_run(c, "chatty")
    wait_run(c, me, "chatty", rid, states=("RUNNING",), timeout=30)
    events = read_events(s.url, f"/live/artifacts/{me}/chatty/{rid}/fallout-shared.log", c.token)
    kinds = [e for e, _ in events]
    assert "updated" in kinds and kinds[-1] == "finished", kinds
    text = "\n".join(d for e, d in events if e == "updated")
    assert text.strip(), events
    run = wait_run(c, me, "chatty", rid)
    assert run["state"] == "PASSED"
    # every line sent was the log's
    log = c.get(f"/tests/ui/{me}/chatty/{rid}/artifacts/fallout-shared.log").text
    for line in text.splitlines():
        if line.strip():
            assert line in log, line


# ---- the server itself ----

def test_openapi_health_version(serve):
    s = serve()
    anon = s.client()
    r = anon.get("/health")
    assert r.status == 200 and r.json()["status"] == "ok"
    anon = s.admin()
    r = anon.get("/version/api")
    assert r.status == 200 and r.json()
    r = anon.get("/openapi.json")
    assert r.status == 200
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    table = routes_table()
    assert len(table) > 40
    for method, path, _ in table:
        path = path.replace("*}", "}")  # OpenAPI has no {rest*}: "{path*}" is written "{path}"
        assert path in spec["paths"], path
        assert method.lower() in spec["paths"][path], (method, path)
    assert sum(len(m) for m in spec["paths"].values()) == len(table)


def test_single_user_mode_needs_no_token(serve):
    s = serve(env={"FALLOUT_AUTH_MODE": "SINGLE_USER"})
    c = s.client()  # no token, no cookie
    me = c.get("/account/api").json()["email"]
    assert me == ADMIN[1]
    create_test(c, "hello", definition())
    rid = start_run(c, "hello")
    assert wait_run(c, me, "hello", rid)["state"] == "PASSED"
    assert c.get(f"/tests/ui/{me}/hello/{rid}/artifacts/testrun.json").status == 200
    assert c.post("/admin/queue/pause/api").status == 200
    assert c.delete("/tests/hello/api").status == 200


# ---- secrets ----

SECRET = "s3cr3t-Value-7f2e9"


def test_secrets_are_used_but_never_shown(serve):
    s = serve()
    c = s.admin()
    me = ADMIN[1]
    r = c.put("/account/secrets/DB_PASSWORD/api", {"value": SECRET})
    assert r.status == 200, r.text
    listed = c.get("/account/secrets/api")
    assert listed.status == 200 and "DB_PASSWORD" in listed.text and SECRET not in listed.text
    create_test(c, "uses", definition('echo "the password is <<secret:DB_PASSWORD>>"\n'
                                      'test "<<secret:DB_PASSWORD>>" = "' + SECRET + '"'))
    rid = start_run(c, "uses")
    run = wait_run(c, me, "uses", rid)
    assert run["state"] == "PASSED", run
    assert SECRET not in json.dumps(run)
    for p in run["artifacts"]:
        body = c.get(f"/tests/ui/{me}/uses/{rid}/artifacts/{p}").body
        assert SECRET.encode() not in body, p
    z = c.get(f"/tests/ui/{me}/uses/{rid}/artifactsArchive").body
    zf = zipfile.ZipFile(io.BytesIO(z))
    for n in zf.namelist():
        assert SECRET.encode() not in zf.read(n), n
    node = c.get(f"/tests/ui/{me}/uses/{rid}/artifacts/{node_log(run)}").text
    assert "<redacted>" in node
    # nor anywhere on disk
    for f in run_dir(s.data, rid).rglob("*"):
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f
    assert c.delete("/account/secrets/DB_PASSWORD/api").status == 200
    assert "DB_PASSWORD" not in c.get("/account/secrets/api").text


# ---- housekeeping ----

def test_housekeeping_compresses_old_artifacts(serve):
    s = serve(config="housekeeping:\n  compress_after: 1ms\n")
    c = s.admin()
    me = ADMIN[1]
    create_test(c, "big", definition("for i in $(seq 1 20000); do echo \"line $i of a big log\"; done"))
    rid = start_run(c, "big")
    run = wait_run(c, me, "big", rid)
    assert run["state"] == "PASSED"
    log = node_log(run)
    original = c.get(f"/tests/ui/{me}/big/{rid}/artifacts/{log}").body
    assert len(original) > 200_000
    r = c.post("/admin/housekeeping/api")
    assert r.status == 200, r.text
    assert r.json()["compressed"] >= 1
    arts = c.get(f"/tests/{me}/big/runs/{rid}/artifacts/api").json()
    assert log + ".gz" in arts, arts
    assert (run_dir(s.data, rid) / (log + ".gz")).exists()
    r = c.get(f"/tests/ui/{me}/big/{rid}/artifacts/{log}")
    assert r.status == 200 and r.body == original
    r = c.get(f"/tests/ui/{me}/big/{rid}/artifacts/{log}", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200
    body = gzip.decompress(r.body) if r.headers.get("Content-Encoding") == "gzip" else r.body
    assert body == original
    # the zip still holds the original file
    zf = zipfile.ZipFile(io.BytesIO(c.get(f"/tests/ui/{me}/big/{rid}/artifactsArchive").body))
    names = [n for n in zf.namelist() if n.endswith(log) or n.endswith(log + ".gz")]
    assert names, zf.namelist()


def test_housekeeping_reaps_old_runs_unless_kept(serve):
    s = serve(config="housekeeping:\n  retention: 1ms\n")
    c = s.admin()
    me = ADMIN[1]
    create_test(c, "hello", definition())
    gone, kept = start_run(c, "hello"), start_run(c, "hello")
    for rid in (gone, kept):
        assert wait_run(c, me, "hello", rid)["state"] == "PASSED"
    r = c.post(f"/tests/{me}/hello/runs/{kept}/setKeepForever/api")
    assert r.status == 200, r.text
    assert c.get(f"/tests/{me}/hello/runs/{kept}/api").json()["keepForever"] is True
    gone_dir, kept_dir = run_dir(s.data, gone), run_dir(s.data, kept)
    r = c.post("/admin/housekeeping/api")
    assert r.status == 200 and r.json()["reaped"] == 1, r.text
    assert c.get(f"/tests/{me}/hello/runs/{gone}/api").status == 404
    assert not gone_dir.exists()
    assert c.get(f"/tests/{me}/hello/runs/{kept}/api").json()["state"] == "PASSED"
    assert (kept_dir / "testrun.json").exists()
    # keepForever=false undoes it: the next pass reaps it
    assert c.post(f"/tests/{me}/hello/runs/{kept}/setKeepForever/api?keepForever=false").status == 200
    assert c.post("/admin/housekeeping/api").json()["reaped"] == 1
    assert c.get(f"/tests/{me}/hello/runs/{kept}/api").status == 404


# ---- docs/service.md's examples run ----

def doc_blocks(kind):
    text = (ROOT / "docs/service.md").read_text()
    return re.findall(r"^```" + kind + r"\n(.*?)^```", text, re.M | re.S)


def test_documented_config_and_definitions_work(serve, tmp_path):
    configs = [b for b in doc_blocks("yaml") if b.startswith("# fallout serve --config")]
    assert len(configs) == 1
    cfg = configs[0]
    cfg = re.sub(r"^data: .*$", f"data: {tmp_path / 'data'}", cfg, flags=re.M)
    cfg = re.sub(r"^library: .*$", f"library: {ROOT / 'examples/library'}", cfg, flags=re.M)
    cfg = re.sub(r"^public_url: .*$", "", cfg, flags=re.M)
    s = serve(config=cfg)
    c = s.admin()
    q = c.get("/admin/queue/api").json()
    assert "4" in json.dumps(q["limits"]) and "16" in json.dumps(q["limits"]), q
    assert c.put("/account/secrets/DB_PASSWORD/api", {"value": "doc-secret-1"}).status == 200
    defs = [b for b in doc_blocks("yaml") if re.search(r"^workload:", b, re.M)]
    assert defs
    for i, text in enumerate(defs):
        create_test(c, f"doc{i}", text)
        rid = start_run(c, f"doc{i}")
        assert wait_run(c, ADMIN[1], f"doc{i}", rid)["state"] == "PASSED", text


def test_documented_client_session_works(fallout, serve, tmp_path):
    """The `bin/fallout ...` lines of the command-line client's example, in order, against
    a real server: each exits 0 (the login reads its password from stdin here, and files
    the example writes go to a temporary folder)."""
    text = (ROOT / "docs/service.md").read_text()
    section = text[text.index("## The command-line client"):]
    block = re.search(r"^```console\n(.*?)^```", section, re.M | re.S).group(1)
    lines = [ln[2:].split("  #")[0].strip() for ln in block.splitlines() if ln.startswith("$ bin/fallout")]
    assert len(lines) >= 6 and lines[0].startswith("bin/fallout login")
    s = serve()
    env = {"FALLOUT_CLIENT_CONFIG": str(tmp_path / "client.json")}
    run_id = None
    for line in lines:
        args = shlex.split(line)[1:]
        stdin = None
        if args[0] == "login":
            args[args.index("--server") + 1] = s.url
            args[args.index("--email") + 1] = ADMIN[1]
            args.append("--password-stdin")
            stdin = ADMIN[2] + "\n"
        args = [str(tmp_path / "report.xml") if a == "report.xml" else
                str(tmp_path / "artifacts") if a == "./artifacts" else
                run_id if a == "RUN" else a for a in args]
        r = fallout(*args, input=stdin, env=env, cwd=ROOT, timeout=120)
        assert r.returncode == 0, (line, r.stdout, r.stderr)
        if args[:2] == ["run", "start"]:
            run_id = r.stdout.strip().splitlines()[0]
    assert (tmp_path / "report.xml").is_file() and (tmp_path / "artifacts" / "testrun.json").is_file()
