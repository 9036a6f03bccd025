/*
 * workload.c: random numbers, key distributions, the command mix and values of
 * workload.h.
 */
#include "util/common.h"

#include <ctype.h>
#include <math.h>

#include "load/workload.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/strutil.h"

/* ---- random numbers ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void fo_rng_seed(struct fo_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t fo_rng_next(struct fo_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double fo_rng_double(struct fo_rng *r)
{
	return (double)(fo_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t fo_rng_below(struct fo_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)fo_rng_next(r) * n) >> 64);
}

/* ---- zipfian ---- */

#define ZETA_EXACT_MAX 10000000ull

static double zeta(uint64_t n, double theta)
{
	uint64_t m = n < ZETA_EXACT_MAX ? n : ZETA_EXACT_MAX;
	double sum = 0;
	for (uint64_t i = 1; i <= m; i++)
		sum += pow((double)i, -theta);
	if (n > m) {
		/* the rest by Euler-Maclaurin: the integral plus the trapezoid correction */
		double a = (double)m, b = (double)n;
		sum += (pow(b, 1 - theta) - pow(a, 1 - theta)) / (1 - theta) + (pow(b, -theta) - pow(a, -theta)) / 2;
	}
	return sum;
}

void fo_zipf_init(struct fo_zipf *z, uint64_t n, double theta)
{
	z->n = n ? n : 1;
	z->theta = theta;
	z->alpha = 1.0 / (1.0 - theta);
	z->zetan = zeta(z->n, theta);
	double zeta2 = 1.0 + pow(2.0, -theta);
	z->eta = (1.0 - pow(2.0 / (double)z->n, 1.0 - theta)) / (1.0 - zeta2 / z->zetan);
	z->half_pow_theta = 1.0 + pow(0.5, theta);
}

uint64_t fo_zipf_sample(const struct fo_zipf *z, double u)
{
	double uz = u * z->zetan;
	if (uz < 1.0 || z->n == 1)
		return 0;
	if (uz < z->half_pow_theta)
		return 1 < z->n ? 1 : 0;
	double v = (double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha);
	uint64_t k = v <= 0 ? 0 : (uint64_t)v;
	return k >= z->n ? z->n - 1 : k;
}

size_t fo_load_key(char *out, const char *prefix, size_t prefix_len, uint64_t k)
{
	memcpy(out, prefix, prefix_len);
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + k % 10);
		k /= 10;
	} while (k);
	for (size_t i = 0; i < n; i++)
		out[prefix_len + i] = tmp[n - 1 - i];
	out[prefix_len + n] = '\0';
	return prefix_len + n;
}

/* ---- commands ---- */

static const struct {
	const char *name;
	const char *tmpl;
	enum fo_load_cmd_kind kind;
} builtins[] = {
	{"get", "GET __key__", FO_CMD_READ},
	{"set", "SET __key__ __value__", FO_CMD_WRITE},
	{"del", "DEL __key__", FO_CMD_OTHER},
	{"incr", "INCR __key__:n", FO_CMD_OTHER},
	{"exists", "EXISTS __key__", FO_CMD_OTHER},
	{"ping", "PING", FO_CMD_OTHER},
	{"hset", "HSET __key__:h f __value__", FO_CMD_OTHER},
	{"hget", "HGET __key__:h f", FO_CMD_OTHER},
};

const char *const fo_load_builtin_cmds[] = {"get", "set", "del", "incr", "exists", "ping", "hset", "hget", NULL};

#define KEY_MARK "__key__"
#define VALUE_MARK "__value__"

static void cmd_release(struct fo_load_cmd *c)
{
	for (size_t i = 0; i < c->nargs; i++)
		fo_free(c->args[i].text);
	fo_free(c->args);
	c->args = NULL;
	c->nargs = 0;
}

/* Compiles template text into c's arguments (split at spaces). */
static int compile(struct fo_load_cmd *c, const char *tmpl, struct fo_err *err)
{
	size_t cap = 0;
	c->key_arg = -1;
	for (const char *s = tmpl; *s;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		const char *e = s;
		while (*e && *e != ' ' && *e != '\t')
			e++;
		FO_GROW(c->args, cap, c->nargs + 1);
		struct fo_load_arg *a = &c->args[c->nargs];
		a->text = fo_strndup(s, (size_t)(e - s));
		a->len = (size_t)(e - s);
		bool has_key = strstr(a->text, KEY_MARK) != NULL, has_val = strstr(a->text, VALUE_MARK) != NULL;
		if (strcmp(a->text, KEY_MARK) == 0)
			a->kind = FO_ARG_KEY;
		else if (strcmp(a->text, VALUE_MARK) == 0)
			a->kind = FO_ARG_VALUE;
		else if (has_key || has_val)
			a->kind = FO_ARG_MIXED;
		else
			a->kind = FO_ARG_LITERAL;
		if (has_key && c->key_arg < 0)
			c->key_arg = (int)c->nargs;
		c->nargs++;
		s = e;
	}
	if (c->nargs == 0)
		return fo_err_set(err, FO_EINVAL, "an empty command");
	return 0;
}

/* Adds or updates the command called name. */
static int mix_set(struct fo_load_mix *m, size_t *cap, const char *name, double weight, struct fo_err *err)
{
	if (!(weight >= 0) || isinf(weight))
		return fo_err_set(err, FO_EINVAL, "the weight of '%s' must be a number from 0", name);
	bool is_template = strchr(name, ' ') || strstr(name, KEY_MARK) || strstr(name, VALUE_MARK);
	const char *tmpl = NULL;
	enum fo_load_cmd_kind kind = FO_CMD_OTHER;
	char tag[32];
	if (is_template) {
		tmpl = name;
		size_t k = 0;
		for (const char *s = name; *s == ' '; s++)
			name++;
		for (const char *s = name; *s && *s != ' ' && k + 1 < sizeof(tag); s++)
			tag[k++] = (char)tolower((unsigned char)*s);
		tag[k] = '\0';
	} else {
		for (size_t i = 0; i < FO_ARRAY_LEN(builtins); i++)
			if (strcasecmp(name, builtins[i].name) == 0) {
				tmpl = builtins[i].tmpl;
				kind = builtins[i].kind;
				snprintf(tag, sizeof(tag), "%s", builtins[i].name);
			}
		if (!tmpl) {
			const char *best = fo_suggest(name, fo_load_builtin_cmds, FO_ARRAY_LEN(builtins));
			return fo_err_set(
			    err, FO_EINVAL,
			    "unknown command '%s'%s%s%s: use one of get, set, del, incr, exists, ping, hset, "
			    "hget, or a command line such as 'HSET __key__ f __value__'",
			    name, best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
		}
	}
	/* the same template (or built-in) again: the new weight wins */
	for (size_t i = 0; i < m->n; i++) {
		struct fo_load_cmd *c = &m->cmds[i];
		if (!is_template && strcmp(c->name, tag) == 0 && c->kind == kind) {
			c->weight = weight;
			return 0;
		}
	}
	if (weight == 0)
		return 0;
	FO_GROW(m->cmds, *cap, m->n + 1);
	struct fo_load_cmd *c = &m->cmds[m->n];
	*c = (struct fo_load_cmd){.weight = weight, .kind = kind};
	int rc = compile(c, tmpl, err);
	if (rc) {
		cmd_release(c);
		return rc;
	}
	/* tags are unique: a second "hset" template is "hset-2" */
	snprintf(c->name, sizeof(c->name), "%s", tag[0] ? tag : "cmd");
	for (int k = 2;; k++) {
		bool dup = false;
		for (size_t i = 0; i < m->n; i++)
			dup |= strcmp(m->cmds[i].name, c->name) == 0;
		if (!dup)
			break;
		snprintf(c->name, sizeof(c->name), "%.20s-%d", tag, k);
	}
	m->n++;
	return 0;
}

int fo_load_mix_build(struct fo_load_mix *m, const char *ratio, const char *const *names, const double *weights,
		      size_t n, struct fo_err *err)
{
	*m = (struct fo_load_mix){0};
	size_t cap = 0;
	int rc = 0;
	if (ratio && *ratio) {
		const char *colon = strchr(ratio, ':');
		double r = 0, w = 0;
		char *left = colon ? fo_strndup(ratio, (size_t)(colon - ratio)) : NULL;
		bool ok = colon && fo_parse_double(left, &r) && fo_parse_double(colon + 1, &w) && r >= 0 && w >= 0;
		fo_free(left);
		if (!ok)
			return fo_err_set(err, FO_EINVAL, "ratio '%s' must be GETS:SETS, two numbers such as 9:1",
					  ratio);
		if ((rc = mix_set(m, &cap, "get", r, err)) || (rc = mix_set(m, &cap, "set", w, err)))
			goto fail;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = mix_set(m, &cap, names[i], weights[i], err)))
			goto fail;
	/* drop the commands whose weight became 0 */
	size_t k = 0;
	double total = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (m->cmds[i].weight > 0) {
			total += m->cmds[i].weight;
			m->cmds[k++] = m->cmds[i];
		} else {
			cmd_release(&m->cmds[i]);
		}
	}
	m->n = k;
	if (m->n == 0 || !(total > 0)) {
		rc = fo_err_set(err, FO_EINVAL, "the command mix is empty: give get or set a share in 'ratio', or "
						"commands with weights");
		goto fail;
	}
	m->cum = fo_calloc(m->n, sizeof(*m->cum));
	double acc = 0;
	for (size_t i = 0; i < m->n; i++) {
		acc += m->cmds[i].weight;
		m->cum[i] = acc / total;
	}
	m->cum[m->n - 1] = 1.0;
	return 0;
fail:
	fo_load_mix_release(m);
	return rc;
}

void fo_load_mix_release(struct fo_load_mix *m)
{
	for (size_t i = 0; i < m->n; i++)
		cmd_release(&m->cmds[i]);
	fo_free(m->cmds);
	fo_free(m->cum);
	*m = (struct fo_load_mix){0};
}

size_t fo_load_mix_pick(const struct fo_load_mix *m, double u)
{
	for (size_t i = 0; i + 1 < m->n; i++)
		if (u < m->cum[i])
			return i;
	return m->n - 1;
}

size_t fo_load_arg_len(const struct fo_load_arg *a, size_t klen, size_t vlen)
{
	switch (a->kind) {
	case FO_ARG_LITERAL:
		return a->len;
	case FO_ARG_KEY:
		return klen;
	case FO_ARG_VALUE:
		return vlen;
	case FO_ARG_MIXED:
		break;
	}
	size_t n = 0;
	for (const char *s = a->text; *s;) {
		if (strncmp(s, KEY_MARK, sizeof(KEY_MARK) - 1) == 0) {
			n += klen;
			s += sizeof(KEY_MARK) - 1;
		} else if (strncmp(s, VALUE_MARK, sizeof(VALUE_MARK) - 1) == 0) {
			n += vlen;
			s += sizeof(VALUE_MARK) - 1;
		} else {
			n++;
			s++;
		}
	}
	return n;
}

void fo_load_arg_add(struct fo_buf *out, const struct fo_load_arg *a, const char *key, size_t klen, const char *val,
		     size_t vlen)
{
	switch (a->kind) {
	case FO_ARG_LITERAL:
		fo_buf_add(out, a->text, a->len);
		return;
	case FO_ARG_KEY:
		fo_buf_add(out, key, klen);
		return;
	case FO_ARG_VALUE:
		fo_buf_add(out, val, vlen);
		return;
	case FO_ARG_MIXED:
		break;
	}
	const char *s = a->text, *lit = s;
	while (*s) {
		if (strncmp(s, KEY_MARK, sizeof(KEY_MARK) - 1) == 0) {
			fo_buf_add(out, lit, (size_t)(s - lit));
			fo_buf_add(out, key, klen);
			s += sizeof(KEY_MARK) - 1;
			lit = s;
		} else if (strncmp(s, VALUE_MARK, sizeof(VALUE_MARK) - 1) == 0) {
			fo_buf_add(out, lit, (size_t)(s - lit));
			fo_buf_add(out, val, vlen);
			s += sizeof(VALUE_MARK) - 1;
			lit = s;
		} else {
			s++;
		}
	}
	fo_buf_add(out, lit, (size_t)(s - lit));
}

bool fo_load_cmd_route_key(const struct fo_load_cmd *c, const char *key, size_t klen, struct fo_buf *out)
{
	if (c->key_arg < 0)
		return false;
	fo_load_arg_add(out, &c->args[c->key_arg], key, klen, "", 0);
	return true;
}

/* ---- values ---- */

void fo_load_value(char *out, size_t size, uint64_t k, uint32_t version)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "k%llu" "v%lu|", (unsigned long long)k, (unsigned long)version);
	size_t h = n < 0 ? 0 : (size_t)n;
	if (h > size)
		h = size;
	memcpy(out, head, h);
	memset(out + h, 'x', size - h);
}
