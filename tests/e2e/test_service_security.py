"""Security of `fallout serve`, end to end: each attack is refused with the exact status a
client sees, and never leaks what it was after (issue 7: path traversal, oversized bodies,
missing or forged tokens, CSRF, another user's secret, login rate limiting)."""
import http.client
import io
import re
import urllib.parse
import zipfile

from conftest import ROOT
from runs import wait_until
from service import (ADMIN, Client, create_test, create_user, definition, items, run_dir, serve,  # noqa: F401
                     start_run, wait_run)

OUTSIDE = "outside-the-run-folder-91c3e"


def raw_get(url, path, token, headers=None):
    """A GET sending path exactly as given (no normalisation, no re-encoding)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.putheader("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def raw_post(url, path, body, headers, chunked=False):
    """Sends a POST with body (optionally chunked, without Content-Length); returns the status.
    The server may answer and close before reading the whole body: that is fine."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.putrequest("POST", path, skip_accept_encoding=True)
    for k, v in headers.items():
        conn.putheader(k, v)
    if chunked:
        conn.putheader("Transfer-Encoding", "chunked")
    else:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    try:
        if chunked:
            for i in range(0, len(body), 16384):
                piece = body[i:i + 16384]
                conn.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.send(body)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = conn.getresponse()
    status = r.status
    r.read()
    conn.close()
    return status


def routes_table():
    text = (ROOT / "src/server/routes.c").read_text()
    return re.findall(r'\{"(GET|POST|PUT|DELETE)", "([^"]+)", \w+, (FO_AUTH_\w+)', text)


SUBST = {"email": ADMIN[1], "name": "x", "run": "00000000-0000-4000-8000-000000000000", "path*": "testrun.json",
         "kind": "module", "component": "sleep", "id": "1", "secret": "S", "version": "1", "file": "x.yaml"}


def fill(path):
    def sub(m):
        return SUBST.get(m.group(1), "x")
    return re.sub(r"\{([^}]+)\}", sub, path)


# ---- path traversal ----

def test_artifact_paths_cannot_escape_the_run_folder(serve, tmp_path):
    s = serve()
    c = s.admin()
    me = ADMIN[1]
    create_test(c, "t", definition())
    rid = start_run(c, "t")
    assert wait_run(c, me, "t", rid)["state"] == "PASSED"
    folder = run_dir(s.data, rid)
    secret_file = tmp_path / "outside.txt"
    secret_file.write_text(OUTSIDE)
    (folder / "planted-link.txt").symlink_to(secret_file)
    (folder / "planted-dir").symlink_to(tmp_path, target_is_directory=True)
    (folder / "planted-db").symlink_to(s.data / "fallout.db")
    up = "../" * 12
    base = f"/tests/ui/{me}/t/{rid}/artifacts/"
    attacks = [
        base + up + "etc/passwd",
        base + "../../../../../../../../../../etc/passwd",
        base + "..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        base + "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        base + "%2e%2e%2f" * 10 + "etc%2fpasswd",
        base + "%252e%252e%252f" * 10 + "etc%252fpasswd",
        base + "%252e%252e/" * 10 + "etc/passwd",
        base + "/etc/passwd",
        base + "//etc/passwd",
        base + "%2fetc%2fpasswd",
        base + "..\\" * 10 + "etc\\passwd",
        base + "..%5c" * 10 + "etc%5cpasswd",
        base + "....//" * 10 + "etc/passwd",
        base + "%c0%ae%c0%ae/" * 10 + "etc/passwd",
        base + "planted-link.txt",
        base + "planted-dir/outside.txt",
        base + "planted-db",
        base + "./../" + rid + "/testrun.json/../../../../../outside.txt",
        base + "testrun.json%00.txt",
        f"/live/artifacts/{me}/t/{rid}/" + up + "etc/passwd",
        f"/live/artifacts/{me}/t/{rid}/planted-link.txt",
        f"/live/artifacts/{me}/t/{rid}/" + "%2e%2e%2f" * 10 + "etc%2fpasswd",
    ]
    passwd = open("/etc/passwd", "rb").read()
    got = {}
    for path in attacks:
        status, body = raw_get(s.url, path, c.token)
        got[path] = status
        assert OUTSIDE.encode() not in body and b"root:" not in body and passwd not in body, path
        assert b"SQLite format" not in body, path
    # Refused either way: 404 (no such artifact) or, for a path the HTTP layer rejects
    # before routing ('.' and '..' segments, an encoded NUL), 400.
    assert {p: st for p, st in got.items() if st not in (400, 404)} == {}
    assert {p: st for p, st in got.items() if "planted" in p} == {p: 404 for p in got if "planted" in p}
    # the legitimate file still downloads
    status, body = raw_get(s.url, base + "testrun.json", c.token)
    assert status == 200 and body == (folder / "testrun.json").read_bytes()
    # the zip never follows the planted links
    z = zipfile.ZipFile(io.BytesIO(c.get(f"/tests/ui/{me}/t/{rid}/artifactsArchive").body))
    for n in z.namelist():
        data = z.read(n)
        assert OUTSIDE.encode() not in data and b"SQLite format" not in data, n
    # nor does the artifact listing count them
    arts = c.get(f"/tests/{me}/t/runs/{rid}/artifacts/api").json()
    assert not [p for p in arts if p.startswith("planted")], arts


# ---- oversized bodies ----

def test_oversized_bodies_get_413(serve):
    limit = 65536
    s = serve(config=f"limits:\n  max_body: {limit}\n")
    c = s.admin()
    big = b"# " + b"x" * (2 * limit) + b"\n" + definition().encode()
    auth = {"Authorization": f"Bearer {c.token}", "Content-Type": "application/x-yaml"}
    assert raw_post(s.url, "/tests/x/api", big, auth) == 413
    assert raw_post(s.url, "/tests/x/api", big, auth, chunked=True) == 413
    assert c.get("/tests/x/api").status == 404
    huge = urllib.parse.urlencode({"email": ADMIN[1], "password": "p" * (4 * limit)}).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert raw_post(s.url, "/account/login", huge, form) == 413
    assert raw_post(s.url, "/account/login", huge, form, chunked=True) == 413
    # just under the limit is fine, and the server is still well
    ok = definition().encode()
    ok = b"# " + b"y" * (limit - len(ok) - 100) + b"\n" + ok
    assert raw_post(s.url, "/tests/x/api", ok, auth) == 201
    assert s.client().get("/health").status == 200


# ---- authentication ----

def test_every_user_route_needs_credentials(serve):
    s = serve()
    anon = s.client()
    assert anon.get("/openapi.json").status == 401
    spec = s.admin().get("/openapi.json").json()
    table = routes_table()
    assert {(m.lower(), p.replace("*}", "}")) for m, p, _ in table} == {(m, p) for p, ms in spec["paths"].items() for m in ms
                                                     if m in ("get", "post", "put", "delete")}
    open_routes = sorted(p for _, p, a in table if a == "FO_AUTH_NONE")
    # only health and signing in (or up, when the server allows it) work without credentials
    assert open_routes == sorted(["/health", "/account/login", "/account/register"])
    checked = 0
    for method, path, auth in table:
        if auth == "FO_AUTH_NONE":
            continue
        r = anon.request(method, fill(path), body=b"{}" if method in ("POST", "PUT") else None,
                         ctype="application/json" if method in ("POST", "PUT") else None)
        assert r.status == 401, (method, path, r.status, r.text)
        assert "message" in r.json()
        checked += 1
    assert checked == len(table) - 3
    assert anon.get("/health").status == 200
    assert Client(s.url).login(ADMIN[1], ADMIN[2]).status == 200
    assert Client(s.url).login(ADMIN[1], "wrong").status == 401
    # registration is off unless the config allows it
    r = anon.post("/account/register", {"name": "eve", "email": "eve@example.com", "password": "eve-password-1"})
    assert r.status == 403, r.text


def test_forged_and_revoked_tokens_get_401(serve):
    s = serve()
    c = s.admin()
    assert c.get("/account/api").status == 200
    for forged in ("0" * 64, c.token[:-1] + ("0" if c.token[-1] != "0" else "1"), "", "x" * 2000, c.token + "00"):
        assert Client(s.url, forged).get("/account/api").status == 401, forged[:20]
    assert s.client().get("/account/api", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}).status == 401
    # a token of its own, revoked
    r = c.post("/account/tokens/api", {"label": "ci job"})
    assert r.status == 201, r.text
    tok = r.json()
    other = Client(s.url, tok["token"])
    assert other.get("/account/api").json()["email"] == ADMIN[1]
    listed = c.get("/account/tokens/api")
    assert tok["token"] not in listed.text
    tid = tok["id"]
    assert [t["id"] for t in items(listed.json()) if t["label"] == "ci job"] == [tid]
    assert c.delete(f"/account/tokens/{tid}/api").status == 200
    assert other.get("/account/api").status == 401
    assert c.get("/account/api").status == 200
    # another user cannot revoke my token
    b = create_user(c, "bob")
    mine = c.post("/account/tokens/api", {"label": "mine"}).json()
    assert b.delete(f"/account/tokens/{mine['id']}/api").status == 404
    assert Client(s.url, mine["token"]).get("/account/api").status == 200
    # signing out ends the session
    br = Client(s.url)
    assert br.login(ADMIN[1], ADMIN[2]).status == 200
    assert br.get("/account/api").status == 200
    assert br.post("/account/logout").status == 200
    assert br.get("/account/api").status == 401


def test_csrf_is_required_with_the_session_cookie(serve):
    s = serve()
    br = Client(s.url)
    r = br.login(ADMIN[1], ADMIN[2])
    assert r.status == 200
    cookie = r.headers["Set-Cookie"]
    assert br.cookie.startswith("fallout_session=")
    low = cookie.lower()
    assert "httponly" in low and re.search(r"samesite=(lax|strict)", low), cookie
    csrf = br.csrf
    assert csrf

    def as_browser(method, path, body=None, token=None, ctype="application/x-yaml"):
        h = {"Cookie": br.cookie}
        if token is not None:
            h["X-CSRF-Token"] = token
        return Client(s.url).request(method, path, body, headers=h, ctype=ctype)

    text = definition()
    # POST
    assert as_browser("POST", "/tests/c1/api", text).status == 403
    assert as_browser("POST", "/tests/c1/api", text, token="0" * len(csrf)).status == 403
    assert as_browser("POST", "/tests/c1/api", text, token="").status == 403
    assert as_browser("GET", "/tests/c1/api").status == 404
    assert as_browser("POST", "/tests/c1/api", text, token=csrf).status == 201
    # PUT
    text2 = definition("echo two")
    assert as_browser("PUT", "/tests/c1/api", text2).status == 403
    assert as_browser("PUT", "/tests/c1/api", text2, token=csrf + "0").status == 403
    assert "echo two" not in as_browser("GET", "/tests/c1/api").text
    assert as_browser("PUT", "/tests/c1/api", text2, token=csrf).status == 200
    # DELETE
    assert as_browser("DELETE", "/tests/c1/api").status == 403
    assert as_browser("DELETE", "/tests/c1/api", token="nope").status == 403
    assert as_browser("GET", "/tests/c1/api").status == 200
    assert as_browser("DELETE", "/tests/c1/api", token=csrf).status == 200
    # the form field works as the header does
    form = urllib.parse.urlencode({"csrf": csrf})
    assert as_browser("POST", "/tests/c1/restore/api", form, ctype="application/x-www-form-urlencoded").status == 200
    # another user's CSRF token is not mine
    b = create_user(s.admin(), "bob")
    bb = Client(s.url)
    assert bb.login(b.email, b.password).status == 200
    assert as_browser("DELETE", "/tests/c1/api", token=bb.csrf).status == 403
    # a Bearer request needs none
    api = s.admin()
    assert api.post("/tests/c2/api", text, ctype="application/x-yaml").status == 201
    assert api.delete("/tests/c2/api").status == 200


def test_another_users_secret_is_out_of_reach(serve):
    s = serve()
    admin = s.admin()
    a, b = create_user(admin, "alice"), create_user(admin, "bob")
    value = "alice-only-4b1d9e"
    assert a.put("/account/secrets/A_ONLY/api", {"value": value}).status == 200
    assert "A_ONLY" in a.get("/account/secrets/api").text
    r = b.get("/account/secrets/api")
    assert r.status == 200 and "A_ONLY" not in r.text and value not in r.text
    # there is no way to name another user's secret: only the caller's own
    assert b.get("/account/secrets/A_ONLY/api").status == 405
    assert b.delete("/account/secrets/A_ONLY/api").status == 404
    assert admin.delete("/account/secrets/A_ONLY/api").status == 404
    assert b.get(f"/account/secrets/api?owner={a.email}").text.count("A_ONLY") == 0
    uses = definition('echo "got <<secret:A_ONLY>>"\ntest -n "<<secret:A_ONLY>>"')
    create_test(a, "uses", uses)
    create_test(b, "uses", uses)
    ra, rb = start_run(a, "uses"), start_run(b, "uses")
    run_a = wait_run(a, a.email, "uses", ra)
    assert run_a["state"] == "PASSED", run_a
    run_b = wait_run(b, b.email, "uses", rb)
    assert run_b["state"] == "FAILED", run_b
    assert "A_ONLY" in (run_b.get("failureReason") or ""), run_b
    # bob cloning alice's test does not give him her secret either
    assert b.post(f"/tests/{a.email}/uses/clone/api", {"name": "stolen"}).status == 201
    rs = start_run(b, "stolen")
    assert wait_run(b, b.email, "stolen", rs)["state"] == "FAILED"
    for rid in (ra, rb, rs):
        for f in run_dir(s.data, rid).rglob("*"):
            if f.is_file():
                assert value.encode() not in f.read_bytes(), f


def test_login_is_rate_limited(serve):
    # each sign-in costs an argon2id check (~0.2 s): the window is long enough to hold all six
    s = serve(config="login:\n  window: 5s\n  max_failures: 5\n")
    c = Client(s.url)
    for i in range(5):
        assert c.login(ADMIN[1], f"wrong-{i}").status == 401
    r = c.login(ADMIN[1], "wrong-again")
    assert r.status == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1
    r = c.login(ADMIN[1], ADMIN[2])
    assert r.status == 429, "the right password must wait too"
    # the window passes: the right password works again
    wait_until(lambda: Client(s.url).login(ADMIN[1], ADMIN[2]).status == 200, timeout=15,
               what="the login window to pass", interval=0.25)


def test_secrets_never_reach_the_live_log(serve):
    """While the run still runs, following its node log must not show the secret either."""
    s = serve()
    c = s.admin()
    me = ADMIN[1]
    value = "live-secret-5d8a1c"
    assert c.put("/account/secrets/LIVE/api", {"value": value}).status == 200
    create_test(c, "leak", definition('for i in 1 2 3 4 5 6; do echo "secret <<secret:LIVE>>"; sleep 0.2; done'))
    rid = start_run(c, "leak")
    wait_run(c, me, "leak", rid, states=("RUNNING",), timeout=30)
    u = urllib.parse.urlsplit(s.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("GET", f"/live/artifacts/{me}/leak/{rid}/server/node0/fallout-node.log",
                 headers={"Authorization": f"Bearer {c.token}"})
    r = conn.getresponse()
    assert r.status == 200
    streamed = r.read()  # the stream ends with the run
    conn.close()
    assert b"event: finished" in streamed and b"secret " in streamed
    assert value.encode() not in streamed
    assert wait_run(c, me, "leak", rid)["state"] == "PASSED"


def test_non_admins_get_403_on_admin_routes(serve):
    s = serve()
    a = create_user(s.admin(), "alice")
    admin_routes = [(m, p) for m, p, auth in routes_table() if auth == "FO_AUTH_ADMIN"]
    assert ("GET", "/account/users/api") in admin_routes and ("POST", "/admin/housekeeping/api") in admin_routes
    for method, path in admin_routes:
        body = {"name": "x", "email": "x@example.com", "password": "x-password-1", "admin": True} \
            if path == "/account/users/api" and method == "POST" else None
        r = a.request(method, fill(path), body=body)
        assert r.status == 403, (method, path, r.status, r.text)
    # alice did not make herself an admin, nor a user
    assert Client(s.url).login("x@example.com", "x-password-1").status == 401
    assert a.get("/account/api").json()["admin"] is False
    # an admin-made admin may
    boss = create_user(s.admin(), "boss", is_admin=True)
    assert boss.get("/admin/queue/api").status == 200
    assert boss.get("/account/users/api").status == 200
