/*
 * client.c: the HTTP client of the server API (client.h) over libcurl (util/curl.h), and
 * the client's configuration: resolution from flags, environment and file, and the
 * atomic, private write of the file `fallout login` keeps.
 */
#include "util/common.h"

#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client.h"
#include "util/alloc.h"
#include "util/curl.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strutil.h"

#define DEFAULT_TIMEOUT_MS 60000L
#define CONNECT_TIMEOUT_MS 10000L
#define BODY_MAX ((size_t)512 * 1024 * 1024)
#define HEADERS_MAX ((size_t)256 * 1024)

void fo_client_init(struct fo_client *c, const char *server, const char *token)
{
	memset(c, 0, sizeof(*c));
	c->server = fo_strdup(server ? server : "");
	size_t n = strlen(c->server);
	while (n > 0 && c->server[n - 1] == '/')
		c->server[--n] = '\0';
	c->token = token ? fo_strdup(token) : NULL;
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
}

void fo_client_release(struct fo_client *c)
{
	fo_free(c->server);
	fo_free(c->token);
	fo_free(c->email);
	fo_free(c->cookie);
	fo_free(c->csrf);
	memset(c, 0, sizeof(*c));
}

void fo_client_resp_release(struct fo_client_resp *resp)
{
	fo_buf_release(&resp->body);
	fo_buf_release(&resp->headers);
	resp->status = 0;
}

/* What the curl callbacks need. */
struct xfer {
	const struct fo_client_req *rq;
	struct fo_client_resp *resp;
	bool stopped;   /* the sink asked to stop */
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb;
	if (x->rq->sink && x->resp->status / 100 == 2) {
		if (!x->rq->sink(x->rq->ctx, p, n)) {
			x->stopped = true;
			return 0;
		}
		return n;
	}
	if (fo_buf_add(&x->resp->body, p, n) != 0) {
		x->too_big = true;
		return 0;
	}
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb;
	/* A new status line starts a new response (after a 100 Continue or a redirect). */
	if (n > 5 && memcmp(p, "HTTP/", 5) == 0) {
		fo_buf_clear(&x->resp->headers);
		const char *sp = memchr(p, ' ', n);
		if (sp)
			x->resp->status = strtol(sp + 1, NULL, 10);
	}
	fo_buf_add(&x->resp->headers, p, n);
	return n;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = userdata;
	return x->rq->cancel && x->rq->cancel(x->rq->ctx) ? 1 : 0;
}

static struct curl_slist *add_header(const struct fo_curl *lc, struct curl_slist *l, const char *fmt, ...)
	FO_PRINTF(3, 4);
static struct curl_slist *add_header(const struct fo_curl *lc, struct curl_slist *l, const char *fmt, ...)
{
	struct fo_buf b = FO_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	struct curl_slist *r = lc->slist_append(l, b.s);
	fo_buf_release(&b);
	return r ? r : l;
}

int fo_client_request(struct fo_client *c, const struct fo_client_req *rq, struct fo_client_resp *resp,
		      struct fo_err *err)
{
	fo_client_resp_release(resp);
	fo_buf_init(&resp->body, BODY_MAX);
	fo_buf_init(&resp->headers, HEADERS_MAX);
	const struct fo_curl *lc = fo_curl_load(err);
	if (!lc)
		return FO_ENET;
	CURL *h = lc->easy_init();
	if (!h)
		return fo_err_set(err, FO_ENET, "cannot start libcurl");
	struct fo_buf url = FO_BUF_INIT;
	fo_buf_addf(&url, "%s%s", c->server, rq->path);
	struct curl_slist *hdrs = NULL;
	hdrs = add_header(lc, hdrs, "Accept: application/json");
	hdrs = add_header(lc, hdrs, "Expect:");
	if (c->token)
		hdrs = add_header(lc, hdrs, "Authorization: Bearer %s", c->token);
	if (c->cookie)
		hdrs = add_header(lc, hdrs, "Cookie: %s", c->cookie);
	if (c->csrf)
		hdrs = add_header(lc, hdrs, "X-CSRF-Token: %s", c->csrf);
	if (rq->ctype)
		hdrs = add_header(lc, hdrs, "Content-Type: %s", rq->ctype);
	struct xfer x = {.rq = rq, .resp = resp};
	char errbuf[CURL_ERROR_SIZE] = "";
	lc->easy_setopt(h, CURLOPT_URL, url.s);
	lc->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	if (strcmp(rq->method, "GET") == 0)
		lc->easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (rq->ctype || strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0) {
		lc->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
		lc->easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? (const char *)rq->body : "");
	}
#if LIBCURL_VERSION_NUM >= 0x075500
	lc->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	lc->easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	lc->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	lc->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	if (!rq->no_timeout && c->timeout_ms > 0)
		lc->easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	lc->easy_setopt(h, CURLOPT_USERAGENT, "fallout-client");
	lc->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	lc->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	lc->easy_setopt(h, CURLOPT_WRITEDATA, &x);
	lc->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	lc->easy_setopt(h, CURLOPT_HEADERDATA, &x);
	if (rq->cancel) {
		lc->easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		lc->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		lc->easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	}
	CURLcode cc = lc->easy_perform(h);
	long status = 0;
	lc->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	int rc = 0;
	if (status)
		resp->status = status;
	if (cc == CURLE_OK || (x.stopped && resp->status) || (cc == CURLE_ABORTED_BY_CALLBACK && resp->status)) {
		rc = 0;
	} else if (x.too_big) {
		rc = fo_err_set(err, FO_ETOOBIG, "the answer of '%s' is larger than %zu MiB", url.s, BODY_MAX >> 20);
	} else {
		rc = fo_err_set(err, FO_ENET, "cannot reach '%s': %s", url.s,
				errbuf[0] ? errbuf : lc->easy_strerror(cc));
	}
	lc->easy_cleanup(h);
	lc->slist_free_all(hdrs);
	fo_buf_release(&url);
	return rc;
}

int fo_client_json(struct fo_client *c, const char *method, const char *path, const char *json,
		   struct fo_client_resp *resp, struct fo_err *err)
{
	struct fo_client_req rq = {
		.method = method,
		.path = path,
		.ctype = json ? "application/json" : NULL,
		.body = json,
		.len = json ? strlen(json) : 0,
	};
	return fo_client_request(c, &rq, resp, err);
}

char *fo_client_header(const struct fo_client_resp *resp, const char *name)
{
	size_t nl = strlen(name);
	const char *p = resp->headers.s;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			const char *end = p + len;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
				end--;
			return fo_strndup(v, (size_t)(end - v));
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return NULL;
}

void fo_client_error_message(const struct fo_client_resp *resp, struct fo_buf *out)
{
	fo_buf_clear(out);
	json_t *j = json_loadb(resp->body.s, resp->body.len, 0, NULL);
	const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
	if (!m && j)
		m = json_string_value(json_object_get(j, "error"));
	if (m && *m) {
		fo_buf_adds(out, m);
		json_decref(j);
		return;
	}
	json_decref(j);
	const char *s = resp->body.s;
	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	size_t n = strcspn(s, "\r\n");
	if (n > 300)
		n = 300;
	if (n && *s != '<' && *s != '{')
		fo_buf_add(out, s, n);
	else
		fo_buf_addf(out, "HTTP status %ld", resp->status);
}

/* Appends s percent-encoded: ASCII letters and digits and the bytes of keep as they are,
 * a space as '+' when plus_space (forms), every other byte as %XX. */
static void escape(struct fo_buf *out, const char *s, const char *keep, bool plus_space)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char ch = *p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr(keep, ch)) {
			fo_buf_addch(out, (char)ch);
		} else if (ch == ' ' && plus_space) {
			fo_buf_addch(out, '+');
		} else {
			fo_buf_addch(out, '%');
			fo_buf_addch(out, hex[ch >> 4]);
			fo_buf_addch(out, hex[ch & 15]);
		}
	}
}

void fo_client_escape(struct fo_buf *out, const char *s, bool keep_slash)
{
	escape(out, s, keep_slash ? "-._~@/" : "-._~@", false);
}

/* Appends s form-encoded (application/x-www-form-urlencoded). */
static void form_escape(struct fo_buf *out, const char *s)
{
	escape(out, s, "-._*", true);
}

/* Records the refusal in resp as err's message; returns FO_EINVAL. */
static int refused(const struct fo_client_resp *resp, long *status, struct fo_err *err)
{
	struct fo_buf m = FO_BUF_INIT;
	fo_client_error_message(resp, &m);
	*status = resp->status;
	fo_err_set(err, FO_EINVAL, "%s", m.s);
	fo_buf_release(&m);
	return FO_EINVAL;
}

int fo_client_login_session(struct fo_client *c, const char *email, const char *password, long *status,
			    struct fo_err *err)
{
	*status = 0;
	struct fo_buf form = FO_BUF_INIT;
	fo_buf_adds(&form, "email=");
	form_escape(&form, email);
	fo_buf_adds(&form, "&password=");
	form_escape(&form, password);
	struct fo_client_req rq = {
		.method = "POST",
		.path = "/account/login",
		.ctype = "application/x-www-form-urlencoded",
		.body = form.s,
		.len = form.len,
	};
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	int rc = fo_client_request(c, &rq, &resp, err);
	/* The password must not linger in memory longer than needed. */
	memset(form.s, 0, form.len);
	fo_buf_release(&form);
	if (rc)
		goto out;
	if (resp.status != 200) {
		rc = refused(&resp, status, err);
		goto out;
	}
	*status = resp.status;
	char *cookie = fo_client_header(&resp, "Set-Cookie");
	json_t *j = json_loadb(resp.body.s, resp.body.len, 0, NULL);
	const char *csrf = j ? json_string_value(json_object_get(j, "csrfToken")) : NULL;
	if (!cookie || !csrf) {
		rc = fo_err_set(err, FO_EINVAL, "the server signed you in but sent no %s",
				cookie ? "CSRF token" : "session cookie");
	} else {
		cookie[strcspn(cookie, ";")] = '\0';
		fo_free(c->cookie);
		fo_free(c->csrf);
		c->cookie = fo_strdup(cookie);
		c->csrf = fo_strdup(csrf);
	}
	fo_free(cookie);
	json_decref(j);
out:
	fo_client_resp_release(&resp);
	return rc;
}

int fo_client_create_token(struct fo_client *c, const char *label, char **token, long *status,
			   struct fo_err *err)
{
	*token = NULL;
	*status = 0;
	json_t *body = json_pack("{s:s}", "label", label);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct fo_client_resp resp = FO_CLIENT_RESP_INIT;
	int rc = fo_client_json(c, "POST", "/account/tokens/api", text, &resp, err);
	free(text);
	if (rc)
		goto out;
	*status = resp.status;
	if (resp.status / 100 != 2) {
		rc = refused(&resp, status, err);
		goto out;
	}
	json_t *j = json_loadb(resp.body.s, resp.body.len, 0, NULL);
	const char *t = j ? json_string_value(json_object_get(j, "token")) : NULL;
	if (t && *t)
		*token = fo_strdup(t);
	else
		rc = fo_err_set(err, FO_EINVAL, "the server's answer holds no token");
	json_decref(j);
out:
	fo_client_resp_release(&resp);
	return rc;
}

char *fo_client_config_path(void)
{
	const char *p = getenv("FALLOUT_CLIENT_CONFIG");
	if (p && *p)
		return fo_strdup(p);
	struct fo_buf b = FO_BUF_INIT;
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	if (xdg && *xdg)
		fo_buf_addf(&b, "%s/fallout/client.json", xdg);
	else
		fo_buf_addf(&b, "%s/.config/fallout/client.json", home && *home ? home : ".");
	return fo_buf_detach(&b, NULL);
}

/* The first non-empty of a and b, owned; NULL when both are unset. */
static char *pick(const char *a, const char *b)
{
	if (a && *a)
		return fo_strdup(a);
	if (b && *b)
		return fo_strdup(b);
	return NULL;
}

int fo_client_config_resolve(struct fo_client_config *cfg, const char *server_flag, const char *token_flag,
			     struct fo_err *err)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->path = fo_client_config_path();
	cfg->server = pick(server_flag, getenv("FALLOUT_SERVER"));
	cfg->token = pick(token_flag, getenv("FALLOUT_TOKEN"));
	struct fo_buf text = FO_BUF_INIT;
	struct fo_err ferr = {0};
	int rc = fo_buf_read_file(&text, cfg->path, 1 << 20, &ferr);
	if (rc == FO_ENOENT) {
		fo_buf_release(&text);
		return 0;
	}
	if (rc) {
		fo_buf_release(&text);
		return fo_err_set(err, rc, "cannot read the client configuration '%s': %s", cfg->path, ferr.msg);
	}
	json_error_t jerr;
	json_t *j = json_loadb(text.s, text.len, 0, &jerr);
	fo_buf_release(&text);
	if (!json_is_object(j)) {
		json_decref(j);
		return fo_err_set(err, FO_EPARSE, "the client configuration '%s' is not a JSON object%s%s", cfg->path,
				  jerr.text[0] ? ": " : "", jerr.text);
	}
	const char *server = json_string_value(json_object_get(j, "server"));
	const char *token = json_string_value(json_object_get(j, "token"));
	const char *email = json_string_value(json_object_get(j, "email"));
	/* The file's token belongs to the file's server: never send it elsewhere. */
	bool same_server = !cfg->server || (server && strcmp(cfg->server, server) == 0);
	if (!cfg->server && server && *server)
		cfg->server = fo_strdup(server);
	if (!cfg->token && same_server && token && *token)
		cfg->token = fo_strdup(token);
	if (same_server && email && *email)
		cfg->email = fo_strdup(email);
	json_decref(j);
	return 0;
}

void fo_client_config_release(struct fo_client_config *cfg)
{
	fo_free(cfg->server);
	fo_free(cfg->token);
	fo_free(cfg->email);
	fo_free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

int fo_client_config_save(const char *path, const char *server, const char *token, const char *email,
			  struct fo_err *err)
{
	char *copy = fo_strdup(path);
	char *dir = dirname(copy);
	struct fo_buf failed = FO_BUF_INIT;
	int e = fo_mkdir_p(dir, 0700, &failed);
	if (e) {
		fo_err_set(err, FO_EIO, "cannot create '%s': %s", failed.s, strerror(e));
		fo_buf_release(&failed);
		fo_free(copy);
		return FO_EIO;
	}
	fo_buf_release(&failed);
	fo_free(copy);
	json_t *j = json_object();
	json_object_set_new(j, "server", json_string(server));
	json_object_set_new(j, "token", json_string(token));
	if (email)
		json_object_set_new(j, "email", json_string(email));
	char *text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	struct fo_buf tmp = FO_BUF_INIT;
	fo_buf_addf(&tmp, "%s.XXXXXX", path);
	int rc = 0;
	int fd = mkstemp(tmp.s);
	if (fd < 0) {
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	size_t len = strlen(text), off = 0;
	bool ok = fchmod(fd, 0600) == 0;
	while (ok && off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			ok = false;
		else
			off += (size_t)w;
	}
	ok = ok && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	int saved = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (ok && rename(tmp.s, path) != 0) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		unlink(tmp.s);
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", path, strerror(saved));
	}
out:
	free(text);
	fo_buf_release(&tmp);
	return rc;
}
