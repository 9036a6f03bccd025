/*
 * ssh.c: the SSH client of ssh.h over libssh, loaded with dlopen on first use (as
 * util/curl.c loads libcurl): only the headers are needed to build, and fallout commands
 * that never connect anywhere never load it.
 *
 * Commands run on an exec channel; their end is learned from the exit-status or
 * exit-signal request (channel callbacks). Files move over one SFTP session per
 * connection, opened on first use. The command lines are built here, so that the
 * provisioner, its tests and `fallout cleanup` quote and kill exactly alike.
 */
#include "util/common.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/ssh.h"
#include "util/strutil.h"

#define DEFAULT_TIMEOUT_NS (30 * 1000000000LL)
#define POLL_MS 100
#define DRAIN_AFTER_EXIT_NS (2 * 1000000000LL) /* output still open after the exit status */
#define CHUNK 32768
#define MAX_DEPTH 64

/* ---- loading libssh ---- */

#define SSH_FNS(X)                                                                                      \
	X(ssh_new) X(ssh_free) X(ssh_options_set) X(ssh_connect) X(ssh_disconnect) X(ssh_get_error)     \
	X(ssh_is_connected)                                                                              \
	X(ssh_session_is_known_server) X(ssh_session_update_known_hosts) X(ssh_get_server_publickey)  \
	X(ssh_get_publickey_hash) X(ssh_get_fingerprint_hash) X(ssh_clean_pubkey_hash) X(ssh_key_free) \
	X(ssh_pki_import_privkey_file) X(ssh_userauth_publickey) X(ssh_userauth_publickey_auto)         \
	X(ssh_userauth_password) X(ssh_channel_new) X(ssh_channel_open_session)                         \
	X(ssh_channel_request_exec) X(ssh_channel_poll_timeout) X(ssh_channel_read_nonblocking)         \
	X(ssh_channel_send_eof) X(ssh_channel_is_eof) X(ssh_channel_is_closed)     \
	X(ssh_channel_close) X(ssh_channel_free) X(ssh_set_channel_callbacks) X(ssh_remove_channel_callbacks) X(ssh_string_free_char)   \
	X(ssh_channel_get_exit_status) X(ssh_event_new) X(ssh_event_add_session) X(ssh_event_dopoll)    \
	X(ssh_event_remove_session) X(ssh_event_free)                                                   \
	X(sftp_new) X(sftp_init) X(sftp_free) X(sftp_get_error) X(sftp_open) X(sftp_close) X(sftp_read) \
	X(sftp_write) X(sftp_seek64) X(sftp_lstat) X(sftp_attributes_free) X(sftp_opendir)              \
	X(sftp_readdir) X(sftp_closedir) X(sftp_mkdir) X(sftp_unlink) X(sftp_readlink)                  \
	X(sftp_canonicalize_path) X(sftp_chmod)

/* The functions, with the types the headers give them. */
static struct {
#define DECLARE(name) __typeof__(&name) name;
	SSH_FNS(DECLARE)
#undef DECLARE
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static bool lib_ok;
static char lib_error[256];

static void lib_load(void)
{
	void *h = dlopen("libssh.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(lib_error, sizeof(lib_error), "%s", dlerror());
		return;
	}
#define LOAD(name)                                                                                      \
	if (!(*(void **)&lib.name = dlsym(h, #name))) {                                                 \
		snprintf(lib_error, sizeof(lib_error), "libssh.so.4 lacks %s", #name);                  \
		return;                                                                                 \
	}
	SSH_FNS(LOAD)
#undef LOAD
	lib_ok = true;
}

/* ---- connections ---- */

struct fo_ssh {
	ssh_session ss;
	sftp_session sftp;     /* opened on first use */
	char *home;            /* the remote home, once asked */
	char name[320];        /* USER@HOST:PORT */
};

const char *fo_ssh_name(const struct fo_ssh *s)
{
	return s->name;
}

/* The host key's SHA256 fingerprint, for messages. */
static void fingerprint(ssh_session ss, char *out, size_t n)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	out[0] = '\0';
	if (lib.ssh_get_server_publickey(ss, &key) == SSH_OK &&
	    lib.ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
		char *fp = lib.ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
		if (fp) {
			snprintf(out, n, "%s", fp);
			lib.ssh_string_free_char(fp);
		}
		lib.ssh_clean_pubkey_hash(&hash);
	}
	if (key)
		lib.ssh_key_free(key);
}

/* Checks the server's key against the known_hosts file. */
static int check_host_key(struct fo_ssh *s, const struct fo_ssh_opts *o, struct fo_err *err)
{
	if (o->hostkey == FO_SSH_HOSTKEY_NO)
		return 0;
	enum ssh_known_hosts_e k = lib.ssh_session_is_known_server(s->ss);
	char fp[128];
	switch (k) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		fingerprint(s->ss, fp, sizeof(fp));
		return fo_err_set(err, FO_ENET,
				  "%s: the host key changed (now %s), which may be an attack; if the host was "
				  "rebuilt, remove its line from '%s'",
				  s->name, fp, o->known_hosts);
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		if (o->hostkey == FO_SSH_HOSTKEY_YES) {
			fingerprint(s->ss, fp, sizeof(fp));
			return fo_err_set(err, FO_ENET,
					  "%s: the host key (%s) is not in '%s' and strict.host.key.checking is yes",
					  s->name, fp, o->known_hosts);
		}
		if (lib.ssh_session_update_known_hosts(s->ss) != SSH_OK)
			return fo_err_set(err, FO_EIO, "%s: cannot add the host key to '%s': %s", s->name,
					  o->known_hosts, lib.ssh_get_error(s->ss));
		return 0;
	default:
		return fo_err_set(err, FO_EIO, "%s: cannot check the host key against '%s': %s", s->name,
				  o->known_hosts, lib.ssh_get_error(s->ss));
	}
}

static int authenticate(struct fo_ssh *s, const struct fo_ssh_opts *o, struct fo_err *err)
{
	if (o->key_path) {
		ssh_key key = NULL;
		if (lib.ssh_pki_import_privkey_file(o->key_path, o->key_passphrase, NULL, NULL, &key) != SSH_OK)
			return fo_err_set(err, FO_EINVAL, "%s: cannot read the private key '%s'%s", s->name,
					  o->key_path, o->key_passphrase ? " (wrong passphrase?)" : "");
		int a = lib.ssh_userauth_publickey(s->ss, NULL, key);
		lib.ssh_key_free(key);
		if (a == SSH_AUTH_SUCCESS)
			return 0;
	}
	if (o->password && lib.ssh_userauth_password(s->ss, NULL, o->password) == SSH_AUTH_SUCCESS)
		return 0;
	if (!o->key_path && !o->password &&
	    lib.ssh_userauth_publickey_auto(s->ss, NULL, o->key_passphrase) == SSH_AUTH_SUCCESS)
		return 0;
	return fo_err_set(err, FO_ENET, "%s: authentication failed (tried %s%s%s)", s->name,
			  o->key_path ? "the key " : "", o->key_path ? o->key_path : "",
			  o->password ? (o->key_path ? " and a password" : "a password")
				      : (o->key_path ? "" : "the agent and the usual keys in ~/.ssh"));
}

int fo_ssh_connect(const struct fo_ssh_opts *o, struct fo_ssh **out, struct fo_err *err)
{
	*out = NULL;
	pthread_once(&lib_once, lib_load);
	if (!lib_ok)
		return fo_err_set(err, FO_EUNSUPPORTED, "cannot load libssh (install libssh-4): %s", lib_error);
	if (!o->host || !*o->host || !o->user || !*o->user)
		return fo_err_set(err, FO_EINVAL, "an SSH connection needs a host and a user");
	struct fo_ssh *s = fo_calloc(1, sizeof(*s));
	unsigned port = o->port > 0 ? (unsigned)o->port : 22;
	snprintf(s->name, sizeof(s->name), "%s@%s:%u", o->user, o->host, port);
	s->ss = lib.ssh_new();
	if (!s->ss) {
		fo_free(s);
		return fo_err_set(err, FO_ENOMEM, "cannot start an SSH session");
	}
	long secs = (long)((o->timeout_ns > 0 ? o->timeout_ns : DEFAULT_TIMEOUT_NS) / 1000000000LL);
	bool no_config = false;
	int nodelay = 1;
	if (secs < 1)
		secs = 1;
	lib.ssh_options_set(s->ss, SSH_OPTIONS_PROCESS_CONFIG, &no_config); /* no ~/.ssh/config surprises */
	lib.ssh_options_set(s->ss, SSH_OPTIONS_HOST, o->host);
	lib.ssh_options_set(s->ss, SSH_OPTIONS_PORT, &port);
	lib.ssh_options_set(s->ss, SSH_OPTIONS_USER, o->user);
	lib.ssh_options_set(s->ss, SSH_OPTIONS_TIMEOUT, &secs);
	lib.ssh_options_set(s->ss, SSH_OPTIONS_NODELAY, &nodelay);
	if (o->known_hosts) {
		struct fo_buf dir = FO_BUF_INIT;
		fo_buf_adds(&dir, o->known_hosts);
		char *slash = strrchr(dir.s, '/');
		if (slash && slash != dir.s) {
			*slash = '\0';
			fo_mkdir_p(dir.s, 0700, NULL);
		}
		fo_buf_release(&dir);
		lib.ssh_options_set(s->ss, SSH_OPTIONS_KNOWNHOSTS, o->known_hosts);
	}
	int rc = 0;
	if (lib.ssh_connect(s->ss) != SSH_OK)
		rc = fo_err_set(err, FO_ENET, "%s: cannot connect: %s", s->name, lib.ssh_get_error(s->ss));
	if (!rc)
		rc = check_host_key(s, o, err);
	if (!rc)
		rc = authenticate(s, o, err);
	if (rc) {
		fo_ssh_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

bool fo_ssh_alive(const struct fo_ssh *s)
{
	return lib.ssh_is_connected(s->ss) != 0;
}

void fo_ssh_free(struct fo_ssh *s)
{
	if (!s)
		return;
	if (s->sftp)
		lib.sftp_free(s->sftp);
	if (s->ss) {
		lib.ssh_disconnect(s->ss);
		lib.ssh_free(s->ss);
	}
	fo_free(s->home);
	fo_free(s);
}

/* ---- commands ---- */

/* What the channel callbacks learn. */
struct ending {
	bool have_status, have_signal;
	int status, sig;
};

static void on_exit_status(ssh_session ss, ssh_channel ch, int status, void *ud)
{
	struct ending *e = ud;
	e->have_status = true;
	e->status = status;
}

/* RFC 4254 names signals without "SIG". */
static int signal_number(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {
		{"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"FPE", SIGFPE},	 {"HUP", SIGHUP},   {"ILL", SIGILL},
		{"INT", SIGINT},   {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},
		{"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"BUS", SIGBUS},   {"XCPU", SIGXCPU},
	};
	for (size_t i = 0; name && i < FO_ARRAY_LEN(names); i++)
		if (strcmp(names[i].name, name) == 0)
			return names[i].sig;
	return SIGTERM; /* an unknown name: still a signal */
}

static void on_exit_signal(ssh_session ss, ssh_channel ch, const char *sig, int core, const char *msg,
			   const char *lang, void *ud)
{
	struct ending *e = ud;
	e->have_signal = true;
	e->sig = signal_number(sig);
}

/* Reads what is waiting on both streams. Returns false when the channel failed. */
static bool drain(ssh_channel ch, const struct fo_ssh_exec *x, char *buf)
{
	for (int is_err = 0; is_err <= 1; is_err++) {
		for (;;) {
			int n = lib.ssh_channel_read_nonblocking(ch, buf, CHUNK, is_err);
			if (n == SSH_ERROR)
				return false;
			if (n <= 0)
				break;
			if (x->output)
				x->output(x->ctx, is_err, buf, (size_t)n);
		}
	}
	return true;
}

int fo_ssh_exec(struct fo_ssh *s, const struct fo_ssh_exec *x, struct fo_ssh_status *st, struct fo_err *err)
{
	*st = (struct fo_ssh_status){.exit_code = -1};
	ssh_channel ch = lib.ssh_channel_new(s->ss);
	if (!ch || lib.ssh_channel_open_session(ch) != SSH_OK) {
		if (ch)
			lib.ssh_channel_free(ch);
		return fo_err_set(err, FO_ENET, "%s: cannot open a channel: %s", s->name, lib.ssh_get_error(s->ss));
	}
	struct ending e = {0};
	struct ssh_channel_callbacks_struct cb = {
		.userdata = &e,
		.channel_exit_status_function = on_exit_status,
		.channel_exit_signal_function = on_exit_signal,
	};
	ssh_callbacks_init(&cb);
	lib.ssh_set_channel_callbacks(ch, &cb);
	char *buf = fo_malloc(CHUNK);
	int rc = 0;
	if (lib.ssh_channel_request_exec(ch, x->command) != SSH_OK)
		rc = fo_err_set(err, FO_ENET, "%s: cannot run a command: %s", s->name, lib.ssh_get_error(s->ss));
	if (!rc)
		lib.ssh_channel_send_eof(ch); /* no standard input */
	/* Waited for on the session's events: the channel's own poll waits for output only
	 * and, once the output ended, returns at once, never reading the exit status. */
	ssh_event ev = lib.ssh_event_new();
	if (ev && lib.ssh_event_add_session(ev, s->ss) != SSH_OK) {
		lib.ssh_event_free(ev);
		ev = NULL;
	}
	int64_t t0 = fo_now_ns(), ended_at = 0;
	while (!rc) {
		int p = SSH_OK;
		if (ev)
			p = lib.ssh_event_dopoll(ev, POLL_MS) == SSH_ERROR ? SSH_ERROR : SSH_OK;
		else if (!lib.ssh_channel_is_eof(ch))
			p = lib.ssh_channel_poll_timeout(ch, POLL_MS, 0);
		else
			p = lib.ssh_channel_get_exit_status(ch) == -1 ? SSH_ERROR : SSH_OK; /* blocks */
		bool ok = p != SSH_ERROR && drain(ch, x, buf);
		if (!ok || lib.ssh_channel_is_closed(ch)) {
			st->lost = !e.have_status && !e.have_signal;
			break;
		}
		bool ended = e.have_status || e.have_signal;
		if (ended && !ended_at)
			ended_at = fo_now_ns();
		/* The end: output closed and the status known, or a background process of the
		 * command still holds the output open a while after the status came. */
		if (ended && (lib.ssh_channel_is_eof(ch) || fo_now_ns() - ended_at > DRAIN_AFTER_EXIT_NS))
			break;
		if (x->tick && x->tick(x->ctx, fo_now_ns() - t0)) {
			st->lost = !ended;
			break;
		}
	}
	if (e.have_signal) {
		st->signal = e.sig;
		st->exit_code = -1;
	} else if (e.have_status) {
		st->exit_code = e.status;
	}
	if (ev) {
		lib.ssh_event_remove_session(ev, s->ss);
		lib.ssh_event_free(ev);
	}
	fo_free(buf);
	/* A channel still open (a background process holds the output) outlives this call
	 * inside libssh, which would call these callbacks when it finally closes. */
	lib.ssh_remove_channel_callbacks(ch, &cb);
	lib.ssh_channel_close(ch);
	lib.ssh_channel_free(ch);
	return rc;
}

/* fo_ssh_run's context: output into a buffer, a deadline. */
struct run_ctx {
	struct fo_buf *out;
	int64_t timeout_ns;
	bool timed_out;
};

static void run_output(void *ctx, bool is_stderr, const char *p, size_t n)
{
	struct run_ctx *r = ctx;
	fo_buf_add(r->out, p, n); /* past the cap: dropped */
}

static int run_tick(void *ctx, int64_t elapsed_ns)
{
	struct run_ctx *r = ctx;
	r->timed_out = r->timeout_ns > 0 && elapsed_ns > r->timeout_ns;
	return r->timed_out;
}

int fo_ssh_run(struct fo_ssh *s, const char *command, int64_t timeout_ns, struct fo_buf *out, struct fo_err *err)
{
	struct fo_buf mine = FO_BUF_INIT;
	if (!out) {
		fo_buf_init(&mine, 64 << 10);
		out = &mine;
	}
	size_t from = out->len;
	struct run_ctx r = {out, timeout_ns, false};
	struct fo_ssh_exec x = {.command = command, .output = run_output, .tick = run_tick, .ctx = &r};
	struct fo_ssh_status st;
	int rc = fo_ssh_exec(s, &x, &st, err);
	if (!rc && (r.timed_out || st.lost || st.signal || st.exit_code != 0)) {
		size_t n = out->len - from;
		while (n > 0 && strchr("\n\r\t ", out->s[from + n - 1]))
			n--;
		const char *tail = out->s + from + (n > 300 ? n - 300 : 0);
		n = n > 300 ? 300 : n;
		rc = fo_err_set(err, FO_EIO, "%s: a command %s %d%s%.*s", s->name,
				r.timed_out || st.lost ? "was cut off after" : st.signal ? "was killed by signal"
										 : "ended with exit status",
				r.timed_out || st.lost ? (int)(timeout_ns / 1000000000LL) : st.signal ? st.signal : st.exit_code,
				n ? ": " : "", (int)n, tail);
	}
	fo_buf_release(&mine);
	return rc;
}

/* ---- files ---- */

static int sftp_of(struct fo_ssh *s, struct fo_err *err)
{
	if (s->sftp)
		return 0;
	s->sftp = lib.sftp_new(s->ss);
	if (!s->sftp || lib.sftp_init(s->sftp) != SSH_OK) {
		if (s->sftp)
			lib.sftp_free(s->sftp);
		s->sftp = NULL;
		return fo_err_set(err, FO_ENET, "%s: cannot start SFTP: %s", s->name, lib.ssh_get_error(s->ss));
	}
	return 0;
}

/* The error of a failed SFTP request on path. */
static int sftp_fail(struct fo_ssh *s, const char *what, const char *path, struct fo_err *err)
{
	int e = lib.sftp_get_error(s->sftp);
	const char *why = e == SSH_FX_NO_SUCH_FILE		? "no such file or folder"
			  : e == SSH_FX_PERMISSION_DENIED	? "permission denied"
			  : e == SSH_FX_FILE_ALREADY_EXISTS ? "it exists"
							    : lib.ssh_get_error(s->ss);
	return fo_err_set(err, e == SSH_FX_NO_SUCH_FILE ? FO_ENOENT : FO_EIO, "%s: cannot %s '%s': %s", s->name,
			  what, path, why);
}

int fo_ssh_home(struct fo_ssh *s, struct fo_buf *out, struct fo_err *err)
{
	if (!s->home) {
		int rc = sftp_of(s, err);
		if (rc)
			return rc;
		char *p = lib.sftp_canonicalize_path(s->sftp, ".");
		if (!p)
			return sftp_fail(s, "resolve", ".", err);
		s->home = fo_strdup(p);
		lib.ssh_string_free_char(p);
	}
	fo_buf_clear(out);
	fo_buf_adds(out, s->home);
	return 0;
}

/* Downloads one regular file to a temporary name beside local, then renames it. */
static int get_file(struct fo_ssh *s, const char *remote, const char *local, unsigned mode, struct fo_err *err)
{
	sftp_file f = lib.sftp_open(s->sftp, remote, O_RDONLY, 0);
	if (!f)
		return sftp_fail(s, "read", remote, err);
	struct fo_buf tmp = FO_BUF_INIT;
	fo_buf_addf(&tmp, "%s.fallout-XXXXXX", local);
	int fd = mkostemp(tmp.s, O_CLOEXEC);
	int rc = 0;
	if (fd < 0)
		rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", local, strerror(errno));
	char *buf = fo_malloc(CHUNK);
	while (!rc) {
		ssize_t n = lib.sftp_read(f, buf, CHUNK);
		if (n < 0)
			rc = sftp_fail(s, "read", remote, err);
		if (n <= 0)
			break;
		int e = fo_write_all(fd, buf, (size_t)n);
		if (e)
			rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", local, strerror(e));
	}
	fo_free(buf);
	lib.sftp_close(f);
	if (fd >= 0) {
		fchmod(fd, mode & 07777);
		close(fd);
		if (!rc && rename(tmp.s, local) < 0)
			rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", local, strerror(errno));
		if (rc)
			unlink(tmp.s);
	}
	fo_buf_release(&tmp);
	return rc;
}

static int get_tree(struct fo_ssh *s, const char *remote, const char *local, int depth, struct fo_err *err)
{
	if (depth > MAX_DEPTH)
		return fo_err_set(err, FO_EIO, "%s: '%s' is nested too deep to collect", s->name, remote);
	sftp_attributes a = lib.sftp_lstat(s->sftp, remote);
	if (!a)
		return sftp_fail(s, "read", remote, err);
	int rc = 0;
	unsigned mode = a->permissions;
	if (a->type == SSH_FILEXFER_TYPE_REGULAR) {
		rc = get_file(s, remote, local, mode, err);
	} else if (a->type == SSH_FILEXFER_TYPE_SYMLINK) {
		char *target = lib.sftp_readlink(s->sftp, remote);
		if (!target)
			rc = sftp_fail(s, "read the link", remote, err);
		else {
			unlink(local);
			if (symlink(target, local) < 0)
				rc = fo_err_set(err, FO_EIO, "cannot write '%s': %s", local, strerror(errno));
			lib.ssh_string_free_char(target);
		}
	} else if (a->type == SSH_FILEXFER_TYPE_DIRECTORY) {
		if (mkdir(local, 0755) < 0 && errno != EEXIST)
			rc = fo_err_set(err, FO_EIO, "cannot create '%s': %s", local, strerror(errno));
		sftp_dir d = rc ? NULL : lib.sftp_opendir(s->sftp, remote);
		if (!rc && !d)
			rc = sftp_fail(s, "read", remote, err);
		struct fo_buf r = FO_BUF_INIT, l = FO_BUF_INIT;
		sftp_attributes e;
		while (d && (e = lib.sftp_readdir(s->sftp, d))) {
			if (strcmp(e->name, ".") != 0 && strcmp(e->name, "..") != 0 && !strchr(e->name, '/')) {
				fo_buf_clear(&r);
				fo_buf_clear(&l);
				fo_buf_addf(&r, "%s/%s", remote, e->name);
				fo_buf_addf(&l, "%s/%s", local, e->name);
				int sub = get_tree(s, r.s, l.s, depth + 1, err); /* go on: collect what can be */
				rc = rc ? rc : sub;
			}
			lib.sftp_attributes_free(e);
		}
		if (d)
			lib.sftp_closedir(d);
		fo_buf_release(&r);
		fo_buf_release(&l);
		chmod(local, mode & 07777);
	}
	lib.sftp_attributes_free(a);
	return rc;
}

int fo_ssh_get(struct fo_ssh *s, const char *remote, const char *local, struct fo_err *err)
{
	int rc = sftp_of(s, err);
	if (rc)
		return rc;
	struct fo_buf parent = FO_BUF_INIT;
	fo_buf_adds(&parent, local);
	char *slash = strrchr(parent.s, '/');
	if (slash && slash != parent.s) {
		*slash = '\0';
		rc = fo_mkdirs(parent.s, err);
	}
	fo_buf_release(&parent);
	return rc ? rc : get_tree(s, remote, local, 0, err);
}

int fo_ssh_put(struct fo_ssh *s, const char *local, const char *remote, struct fo_err *err)
{
	int rc = sftp_of(s, err);
	if (rc)
		return rc;
	int fd = open(local, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = fo_err_set(err, FO_EIO, "cannot read '%s': %s", local, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	sftp_file f = lib.sftp_open(s->sftp, remote, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 07777);
	if (!f) {
		close(fd);
		return sftp_fail(s, "write", remote, err);
	}
	char *buf = fo_malloc(CHUNK);
	while (!rc) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = fo_err_set(err, FO_EIO, "cannot read '%s': %s", local, strerror(errno));
		if (n <= 0)
			break;
		if (lib.sftp_write(f, buf, (size_t)n) != n)
			rc = sftp_fail(s, "write", remote, err);
	}
	fo_free(buf);
	close(fd);
	lib.sftp_close(f);
	if (!rc && lib.sftp_chmod(s->sftp, remote, st.st_mode & 07777) != 0) /* the remote umask applied */
		rc = sftp_fail(s, "set the mode of", remote, err);
	return rc;
}

int fo_ssh_read_from(struct fo_ssh *s, const char *remote, uint64_t offset, size_t max, struct fo_buf *out,
		     size_t *got, struct fo_err *err)
{
	*got = 0;
	int rc = sftp_of(s, err);
	if (rc)
		return rc;
	sftp_file f = lib.sftp_open(s->sftp, remote, O_RDONLY, 0);
	if (!f)
		return lib.sftp_get_error(s->sftp) == SSH_FX_NO_SUCH_FILE ? 0 : sftp_fail(s, "read", remote, err);
	char *buf = fo_malloc(CHUNK);
	if (lib.sftp_seek64(f, offset) < 0)
		rc = sftp_fail(s, "read", remote, err);
	while (!rc && *got < max) {
		size_t want = max - *got < CHUNK ? max - *got : CHUNK;
		ssize_t n = lib.sftp_read(f, buf, want);
		if (n < 0)
			rc = sftp_fail(s, "read", remote, err);
		if (n <= 0 || fo_buf_add(out, buf, (size_t)n) != 0)
			break;
		*got += (size_t)n;
	}
	fo_free(buf);
	lib.sftp_close(f);
	return rc;
}

/* ---- the mirror ---- */

struct mentry {
	char *rel;
	bool dir;
	bool seen;             /* met by the sync under way */
	off_t size;
	int64_t mtime_ns;
	mode_t mode;
};

struct fo_ssh_mirror {
	pthread_mutex_t lock;
	char *local, *remote;
	struct mentry *v;
	size_t n, cap;
	char **excluded;
	size_t nex, excap;
};

struct fo_ssh_mirror *fo_ssh_mirror_new(const char *local, const char *remote)
{
	struct fo_ssh_mirror *m = fo_calloc(1, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->local = fo_strdup(local);
	m->remote = fo_strdup(remote);
	return m;
}

void fo_ssh_mirror_exclude(struct fo_ssh_mirror *m, const char *rel)
{
	pthread_mutex_lock(&m->lock);
	bool have = false;
	for (size_t i = 0; i < m->nex && !have; i++)
		have = strcmp(m->excluded[i], rel) == 0;
	if (!have) {
		FO_GROW(m->excluded, m->excap, m->nex + 1);
		m->excluded[m->nex++] = fo_strdup(rel);
	}
	pthread_mutex_unlock(&m->lock);
}

void fo_ssh_mirror_free(struct fo_ssh_mirror *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		fo_free(m->v[i].rel);
	for (size_t i = 0; i < m->nex; i++)
		fo_free(m->excluded[i]);
	fo_free(m->v);
	fo_free(m->excluded);
	fo_free(m->local);
	fo_free(m->remote);
	pthread_mutex_destroy(&m->lock);
	fo_free(m);
}

static struct mentry *mfind(struct fo_ssh_mirror *m, const char *rel)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].rel, rel) == 0)
			return &m->v[i];
	return NULL;
}

static bool excluded(const struct fo_ssh_mirror *m, const char *rel)
{
	for (size_t i = 0; i < m->nex; i++)
		if (strcmp(m->excluded[i], rel) == 0)
			return true;
	return false;
}

/* Syncs the folder rel ("" for the top) and below. Lock held. */
static int sync_dir(struct fo_ssh_mirror *m, struct fo_ssh *s, const char *rel, int depth, struct fo_err *err)
{
	struct fo_buf lp = FO_BUF_INIT, rp = FO_BUF_INIT, sub = FO_BUF_INIT;
	fo_buf_addf(&lp, "%s%s%s", m->local, *rel ? "/" : "", rel);
	DIR *d = opendir(lp.s);
	int rc = 0;
	if (!d)
		rc = fo_err_set(err, FO_EIO, "cannot read '%s': %s", lp.s, strerror(errno));
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		fo_buf_clear(&sub);
		fo_buf_addf(&sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		fo_buf_clear(&lp);
		fo_buf_addf(&lp, "%s/%s", m->local, sub.s);
		fo_buf_clear(&rp);
		fo_buf_addf(&rp, "%s/%s", m->remote, sub.s);
		struct stat st;
		if (lstat(lp.s, &st) < 0 || excluded(m, sub.s))
			continue;
		struct mentry *e = mfind(m, sub.s);
		int r = 0;
		if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
			if (!e && lib.sftp_mkdir(s->sftp, rp.s, st.st_mode & 07777) != 0 &&
			    lib.sftp_get_error(s->sftp) != SSH_FX_FILE_ALREADY_EXISTS)
				r = sftp_fail(s, "create", rp.s, err);
			if (!r && !e) {
				FO_GROW(m->v, m->cap, m->n + 1);
				m->v[m->n++] = (struct mentry){.rel = fo_strdup(sub.s), .dir = true};
				e = &m->v[m->n - 1];
			}
			if (e)
				e->seen = true;
			if (!r)
				r = sync_dir(m, s, sub.s, depth + 1, err);
		} else if (S_ISREG(st.st_mode)) {
			int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
			bool same = e && !e->dir && e->size == st.st_size && e->mtime_ns == mt && e->mode == st.st_mode;
			if (!same)
				r = fo_ssh_put(s, lp.s, rp.s, err);
			if (!r && !e) {
				FO_GROW(m->v, m->cap, m->n + 1);
				m->v[m->n++] = (struct mentry){.rel = fo_strdup(sub.s)};
				e = &m->v[m->n - 1];
			}
			if (!r) {
				e->dir = false;
				e->size = st.st_size;
				e->mtime_ns = mt;
				e->mode = st.st_mode;
			}
			if (e)
				e->seen = true;
		}
		rc = rc ? rc : r;
	}
	if (d)
		closedir(d);
	fo_buf_release(&lp);
	fo_buf_release(&rp);
	fo_buf_release(&sub);
	return rc;
}

int fo_ssh_mirror_sync(struct fo_ssh_mirror *m, struct fo_ssh *s, struct fo_err *err)
{
	int rc = sftp_of(s, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++)
		m->v[i].seen = false;
	rc = sync_dir(m, s, "", 0, err);
	/* Files copied up before and gone here go there too (folders stay: commands may have
	 * put things in them). */
	struct fo_buf rp = FO_BUF_INIT;
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct mentry *e = &m->v[i];
		if (e->seen || rc) {
			m->v[k++] = *e;
			continue;
		}
		if (!e->dir) {
			fo_buf_clear(&rp);
			fo_buf_addf(&rp, "%s/%s", m->remote, e->rel);
			lib.sftp_unlink(s->sftp, rp.s);
		}
		fo_free(e->rel);
	}
	m->n = k;
	fo_buf_release(&rp);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---- command lines ---- */

void fo_ssh_quote(struct fo_buf *out, const char *s)
{
	fo_buf_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			fo_buf_adds(out, "'\\''");
		else
			fo_buf_addch(out, *s);
	}
	fo_buf_addch(out, '\'');
}

bool fo_ssh_var_name_ok(const char *name, size_t n)
{
	if (n == 0 || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/* Writes "PID START" of the shell running it: its pid and its start time (field 22 of
 * /proc/PID/stat, counted after the command name, which may hold spaces). A function
 * keeps the positional parameters of the caller. */
#define PID_SNIPPET                                                                                     \
	"f() { set -- $1; echo \"$$ ${20:-0}\"; }; l=; read -r l 2>/dev/null </proc/$$/stat; f \"${l##*) }\""

/* Appends "cd 'CWD' && " and "export A='1' && " (env checked). */
static int add_prologue(struct fo_buf *out, const char *cwd, const char *const *env, struct fo_err *err)
{
	if (cwd) {
		fo_buf_adds(out, "cd ");
		fo_ssh_quote(out, cwd);
		fo_buf_adds(out, " && ");
	}
	bool any = false;
	for (size_t i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq || !fo_ssh_var_name_ok(env[i], (size_t)(eq - env[i])))
			return fo_err_set(err, FO_EINVAL, "'%s' is not NAME=VALUE with a shell variable's name", env[i]);
		fo_buf_addf(out, "%s%.*s=", any ? " " : "export ", (int)(eq - env[i]), env[i]);
		fo_ssh_quote(out, eq + 1);
		any = true;
	}
	if (any)
		fo_buf_adds(out, " && ");
	return 0;
}

static void add_argv(struct fo_buf *out, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			fo_buf_addch(out, ' ');
		fo_ssh_quote(out, argv[i]);
	}
}

int fo_ssh_command(struct fo_buf *out, const char *cwd, const char *const *env, const char *const *argv,
		   const char *pid_file, struct fo_err *err)
{
	if (!argv || !argv[0])
		return fo_err_set(err, FO_EINVAL, "no command to run");
	if (cwd) {
		fo_buf_adds(out, "cd ");
		fo_ssh_quote(out, cwd);
		fo_buf_adds(out, " && ");
	}
	if (pid_file) {
		fo_buf_adds(out, "{ " PID_SNIPPET "; } >");
		fo_ssh_quote(out, pid_file);
		fo_buf_adds(out, " && ");
	}
	int rc = add_prologue(out, NULL, env, err);
	if (rc)
		return rc;
	fo_buf_adds(out, "exec ");
	add_argv(out, argv);
	return 0;
}

int fo_ssh_service_command(struct fo_buf *out, const char *cwd, const char *const *env, const char *const *argv,
			   const char *pid_file, const char *log, struct fo_err *err)
{
	if (!argv || !argv[0] || !pid_file || !log)
		return fo_err_set(err, FO_EINVAL, "no service to start");
	int rc = add_prologue(out, cwd, env, err);
	if (rc)
		return rc;
	struct fo_buf status = FO_BUF_INIT;
	fo_buf_addf(&status, "%s.status", pid_file);
	fo_buf_adds(out, "rm -f ");
	fo_ssh_quote(out, status.s);
	fo_buf_adds(out, " && { setsid nohup sh -c ");
	fo_ssh_quote(out, "p=$0; { " PID_SNIPPET "; } >\"$p\"; \"$@\"; echo $? >\"$p.status\"");
	fo_buf_addch(out, ' ');
	fo_ssh_quote(out, pid_file);
	fo_buf_addch(out, ' ');
	add_argv(out, argv);
	fo_buf_adds(out, " >>");
	fo_ssh_quote(out, log);
	fo_buf_adds(out, " 2>&1 </dev/null & } && echo $!");
	fo_buf_release(&status);
	return 0;
}

void fo_ssh_kill_command(struct fo_buf *out, const char *pids, int64_t grace_ns)
{
	long rounds = (long)(grace_ns / 100000000LL);
	fo_buf_adds(out, "st() { set -- $1; echo \"${20:-0}\"; }; g=; for f in ");
	fo_buf_adds(out, pids);
	fo_buf_adds(out, "; do [ -f \"$f\" ] || continue; p=; s=; read -r p s <\"$f\"; "
			 "case \"$p\" in ''|*[!0-9]*) continue;; esac; [ \"$p\" -gt 1 ] || continue; "
			 "l=; read -r l 2>/dev/null </proc/$p/stat; "
			 "if [ -n \"$l\" ] && [ \"${s:-0}\" != 0 ] && [ \"$(st \"${l##*) }\")\" != \"$s\" ]; then continue; fi; "
			 "kill -0 -$p 2>/dev/null || continue; kill -TERM -$p 2>/dev/null; g=\"$g $p\"; done; ");
	fo_buf_addf(out, "i=0; while [ -n \"$g\" ] && [ $i -lt %ld ]; do a=; ", rounds);
	fo_buf_adds(out, "for p in $g; do kill -0 -$p 2>/dev/null && a=1; done; [ -z \"$a\" ] && break; "
			 "sleep 0.1; i=$((i+1)); done; "
			 "for p in $g; do kill -KILL -$p 2>/dev/null; done; echo \"killed$g\"");
}

int fo_ssh_remove_command(struct fo_buf *out, const char *path, struct fo_err *err)
{
	int depth = 0;
	bool ok = path && path[0] == '/' && !strchr(path, '\n');
	for (const char *p = path; ok && *p;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (!n)
			break;
		ok = !(n == 1 && p[0] == '.') && !(n == 2 && p[0] == '.' && p[1] == '.');
		depth++;
		p += n;
	}
	if (!ok || depth < 3)
		return fo_err_set(err, FO_EINVAL, "refusing to remove remote folder '%s'", path ? path : "");
	struct fo_buf parent = FO_BUF_INIT;
	fo_buf_adds(&parent, path);
	while (parent.len > 1 && parent.s[parent.len - 1] == '/')
		fo_buf_truncate(&parent, parent.len - 1);
	fo_buf_adds(out, "if [ -e ");
	fo_ssh_quote(out, path);
	fo_buf_adds(out, " ]; then rm -rf -- ");
	fo_ssh_quote(out, path);
	fo_buf_adds(out, " && echo removed; fi");
	for (int up = 0; up < 2; up++) {
		char *slash = strrchr(parent.s, '/');
		if (!slash || slash == parent.s)
			break;
		fo_buf_truncate(&parent, (size_t)(slash - parent.s));
		fo_buf_adds(out, "; rmdir -- ");
		fo_ssh_quote(out, parent.s);
		fo_buf_adds(out, " 2>/dev/null");
	}
	fo_buf_adds(out, "; true");
	fo_buf_release(&parent);
	return 0;
}

int fo_ssh_target(const struct fo_ssh_opts *o, struct fo_buf *out)
{
	const char *parts[] = {o->host, o->user, o->key_path};
	for (size_t i = 0; i < FO_ARRAY_LEN(parts); i++)
		if (parts[i] && (!*parts[i] || fo_has_space(parts[i], strlen(parts[i]))))
			return FO_EINVAL;
	if (!o->host || !o->user)
		return FO_EINVAL;
	fo_buf_clear(out);
	fo_buf_addf(out, "%s %d %s ", o->host, o->port > 0 ? o->port : 22, o->user);
	if (o->key_path)
		fo_buf_addf(out, "key:%s", o->key_path);
	else
		fo_buf_adds(out, o->password ? "password" : "auto");
	return 0;
}

/* ---- undoing a ledger's remote entries ---- */

/* One remote entry of a ledger: "ssh HOST PORT USER AUTH procs|dir PATH". */
struct rentry {
	char *line;            /* after "ssh " */
	bool gone;
};

/* Reads the remote entries not marked gone. */
static size_t read_rentries(const char *text, struct rentry **out)
{
	size_t n = 0, cap = 0;
	*out = NULL;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			break; /* a torn last line */
		bool gone = fo_starts_with(p, "gone ssh ");
		const char *e = p + (gone ? 9 : 4);
		if (gone || fo_starts_with(p, "ssh ")) {
			char *line = fo_strndup(e, (size_t)(nl - e));
			bool known = false;
			for (size_t i = 0; i < n; i++)
				if (strcmp((*out)[i].line, line) == 0 && (known = true))
					(*out)[i].gone = gone;
			if (!known && !gone) {
				FO_GROW(*out, cap, n + 1);
				(*out)[n++] = (struct rentry){line, false};
			} else {
				fo_free(line);
			}
		}
		p = nl + 1;
	}
	return n;
}

static void notef(fo_ssh_note_fn note, void *ctx, const char *fmt, ...) FO_PRINTF(3, 4);
static void notef(fo_ssh_note_fn note, void *ctx, const char *fmt, ...)
{
	if (!note)
		return;
	struct fo_buf b = FO_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	note(ctx, b.s);
	fo_buf_release(&b);
}

/* Undoes one entry over s; counts into *procs or *dirs. Returns 0 or an error. */
static int undo_one(struct fo_ssh *s, bool is_dir, const char *path, fo_ssh_note_fn note, void *nctx, int *procs,
		    int *dirs, struct fo_err *err)
{
	struct fo_buf cmd = FO_BUF_INIT, out = FO_BUF_INIT, word = FO_BUF_INIT;
	int rc = 0;
	if (is_dir) {
		rc = fo_ssh_remove_command(&cmd, path, err);
	} else {
		fo_ssh_quote(&word, path);
		fo_buf_adds(&word, "/*.pid");
		fo_ssh_kill_command(&cmd, word.s, 2 * 1000000000LL);
	}
	if (!rc)
		rc = fo_ssh_run(s, cmd.s, 60 * 1000000000LL, &out, err);
	if (!rc && is_dir && strstr(out.s, "removed")) {
		notef(note, nctx, "removed folder %s on %s", path, s->name);
		(*dirs)++;
	}
	const char *k = strstr(out.s, "killed");
	for (const char *p = k ? k + 6 : ""; !rc && !is_dir && *p == ' ';) {
		size_t n = strcspn(p + 1, " \n");
		notef(note, nctx, "killed process group %.*s on %s", (int)n, p + 1, s->name);
		(*procs)++;
		p += n + 1;
	}
	fo_buf_release(&cmd);
	fo_buf_release(&out);
	fo_buf_release(&word);
	return rc;
}

int fo_ssh_undo_ledger(const char *ledger, const char *known_hosts, bool dry_run, fo_ssh_note_fn note,
		       void *note_ctx, fo_ssh_gone_fn gone, void *gone_ctx, int *procs, int *dirs,
		       struct fo_err *err)
{
	struct fo_buf text = FO_BUF_INIT, target = FO_BUF_INIT;
	*procs = *dirs = 0;
	struct rentry *es = NULL;
	size_t n = 0;
	if (fo_buf_read_file(&text, ledger, 64u << 20, NULL) == 0 && strstr(text.s, "ssh "))
		n = read_rentries(text.s, &es);
	struct fo_ssh *s = NULL;
	struct fo_err cerr = {0};
	bool unreachable = false; /* the target of s could not be reached (cerr says why) */
	/* Process groups first, then folders; one connection while the target is the same. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			char host[256], user[256], auth[PATH_MAX + 8], kind[8];
			int port = 0, tlen = 0, off = 0;
			if (es[i].gone || sscanf(es[i].line, "%255s %d %255s %4103s%n %7s %n", host, &port, user, auth,
						 &tlen, kind, &off) != 5 || !off ||
			    strcmp(kind, pass ? "dir" : "procs") != 0)
				continue;
			const char *path = es[i].line + off;
			char name[600];
			snprintf(name, sizeof(name), "%s@%s:%d", user, host, port);
			const char *what = pass ? "folder" : "the process groups of";
			if (dry_run) {
				notef(note, note_ctx, "would %s %s on %s", pass ? "remove folder" : "kill the process groups of",
				      path, name);
				*(pass ? dirs : procs) += 1;
				continue;
			}
			if (strcmp(auth, "password") == 0) {
				notef(note, note_ctx, "cannot reconnect to %s (a password is never recorded): left there: %s %s",
				      name, what, path);
				fo_err_set(err, FO_EUNSUPPORTED,
					   "cannot clean up %s: the run logged in with a password, which fallout never "
					   "records; left there: %s %s",
					   name, what, path);
				continue;
			}
			if (target.len != (size_t)tlen || strncmp(target.s, es[i].line, (size_t)tlen) != 0) {
				fo_ssh_free(s);
				s = NULL;
				fo_buf_clear(&target);
				fo_buf_add(&target, es[i].line, (size_t)tlen);
				struct fo_ssh_opts o = {
					.host = host,
					.port = port,
					.user = user,
					.key_path = fo_starts_with(auth, "key:") ? auth + 4 : NULL,
					.known_hosts = known_hosts,
					.hostkey = FO_SSH_HOSTKEY_ACCEPT_NEW,
					.timeout_ns = 15 * 1000000000LL,
				};
				fo_err_clear(&cerr);
				unreachable = fo_ssh_connect(&o, &s, &cerr) != 0;
				if (unreachable)
					fo_err_set(err, cerr.code, "%s", cerr.msg);
			}
			if (unreachable)
				notef(note, note_ctx, "cannot reconnect (%s): left there: %s %s", cerr.msg, what, path);
			if (unreachable || undo_one(s, pass == 1, path, note, note_ctx, procs, dirs, err) != 0)
				continue;
			es[i].gone = true;
			if (gone)
				gone(gone_ctx, target.s, path - (pass ? 4 : 6));
		}
	}
	fo_ssh_free(s);
	for (size_t i = 0; i < n; i++)
		fo_free(es[i].line);
	fo_free(es);
	fo_buf_release(&text);
	fo_buf_release(&target);
	return err && err->code ? err->code : 0;
}
