/*
 * resp.c: the RESP2 encoder and incremental reply parser of resp.h.
 *
 * The parser keeps every value of the reply in progress in one array, v[0] being the
 * root. An array header reserves consecutive slots for all its elements at once, so the
 * elements of any array are contiguous however deeply they nest; while parsing, values
 * refer to strings and elements by offsets (the buffers may move as they grow) and the
 * pointers are filled in when the reply is complete.
 */
#include "util/common.h"

#include "load/resp.h"
#include "util/alloc.h"
#include "util/err.h"

enum { S_TYPE, S_LINE, S_BULK, S_CRLF };

void fo_resp_parser_init(struct fo_resp_parser *p)
{
	*p = (struct fo_resp_parser){.state = S_TYPE};
	fo_buf_init(&p->strs, 0);
	fo_buf_init(&p->line, FO_RESP_MAX_LINE);
}

void fo_resp_parser_release(struct fo_resp_parser *p)
{
	fo_free(p->v);
	fo_buf_release(&p->strs);
	fo_buf_release(&p->line);
	*p = (struct fo_resp_parser){.state = S_TYPE};
}

void fo_resp_parser_reset(struct fo_resp_parser *p)
{
	p->state = S_TYPE;
	p->nv = 0;
	p->depth = 0;
	p->total_elems = 0;
	fo_buf_clear(&p->strs);
	fo_buf_clear(&p->line);
	p->err[0] = '\0';
}

static int fail(struct fo_resp_parser *p, const char *why)
{
	snprintf(p->err, sizeof(p->err), "%s", why);
	return FO_EPARSE;
}

/* Parses a whole decimal integer (optional '-'); false when it is not one or overflows. */
static bool parse_int(const char *s, size_t n, int64_t *out)
{
	bool neg = n > 0 && s[0] == '-';
	size_t i = neg ? 1 : 0;
	if (i == n)
		return false;
	uint64_t v = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* Makes room for n more values; returns the index of the first. */
static size_t reserve_values(struct fo_resp_parser *p, size_t n)
{
	FO_GROW(p->v, p->vcap, p->nv + n);
	size_t first = p->nv;
	memset(p->v + first, 0, n * sizeof(*p->v));
	p->nv += n;
	return first;
}

/* Fills in the pointers of a finished reply. */
static void finish(struct fo_resp_parser *p)
{
	for (size_t i = 0; i < p->nv; i++) {
		struct fo_resp_value *v = &p->v[i];
		if (v->type == FO_RESP_STATUS || v->type == FO_RESP_ERROR || v->type == FO_RESP_BULK)
			v->str = p->strs.s + v->str_off;
		else if (v->type == FO_RESP_ARRAY)
			v->elems = v->n ? p->v + v->first : NULL;
	}
}

/* The current value is complete: closes the arrays it completes. Returns true when the
 * whole reply is. */
static bool value_done(struct fo_resp_parser *p)
{
	p->state = S_TYPE;
	while (p->depth > 0) {
		size_t a = p->stack[p->depth - 1].arr;
		if (p->stack[p->depth - 1].next < p->v[a].first + p->v[a].n)
			return false;
		p->depth--;
	}
	return true;
}

/* Handles a complete header line s[0..n) (without CR LF) of type p->ltype. Returns 1
 * when the reply is complete, 0 to go on, or FO_EPARSE. */
static int header(struct fo_resp_parser *p, const char *s, size_t n)
{
	struct fo_resp_value *v = &p->v[p->cur];
	int64_t num = 0;
	switch (p->ltype) {
	case '+':
	case '-':
		v->type = p->ltype == '+' ? FO_RESP_STATUS : FO_RESP_ERROR;
		v->str_off = p->strs.len;
		v->len = n;
		fo_buf_add(&p->strs, s, n);
		fo_buf_addch(&p->strs, '\0');
		return value_done(p);
	case ':':
		if (!parse_int(s, n, &num))
			return fail(p, "bad integer reply");
		v->type = FO_RESP_INTEGER;
		v->integer = num;
		return value_done(p);
	case '$':
		if (!parse_int(s, n, &num) || num < -1 || num > (int64_t)FO_RESP_MAX_BULK)
			return fail(p, "bad bulk string length");
		if (num == -1) {
			v->type = FO_RESP_NIL;
			return value_done(p);
		}
		v->type = FO_RESP_BULK;
		v->str_off = p->strs.len;
		v->len = (size_t)num;
		p->bulk_left = num;
		p->state = num ? S_BULK : S_CRLF;
		p->crlf_left = 2;
		if (num == 0)
			fo_buf_addch(&p->strs, '\0');
		return 0;
	case '*':
		if (!parse_int(s, n, &num) || num < -1 || num > (int64_t)FO_RESP_MAX_ELEMS)
			return fail(p, "bad array length");
		if (num == -1) {
			v->type = FO_RESP_NIL;
			return value_done(p);
		}
		v->type = FO_RESP_ARRAY;
		v->n = (size_t)num;
		if (num == 0)
			return value_done(p);
		if (p->total_elems + (size_t)num > FO_RESP_MAX_ELEMS)
			return fail(p, "reply has too many elements");
		if (p->depth == FO_RESP_MAX_DEPTH)
			return fail(p, "reply nests too deeply");
		p->total_elems += (size_t)num;
		{
			size_t cur = p->cur;
			size_t first = reserve_values(p, (size_t)num);
			p->v[cur].first = first;
			p->stack[p->depth].arr = cur;
			p->stack[p->depth].next = first;
			p->depth++;
		}
		p->state = S_TYPE;
		return 0;
	}
	return fail(p, "bad reply type");
}

int fo_resp_parse(struct fo_resp_parser *p, const char *data, size_t len, size_t *used,
		  const struct fo_resp_value **out)
{
	size_t i = 0;
	int rc = 0;
	if (p->err[0])
		return FO_EPARSE;
	while (i < len) {
		switch (p->state) {
		case S_TYPE: {
			char t = data[i++];
			if (t != '+' && t != '-' && t != ':' && t != '$' && t != '*') {
				*used = i;
				return fail(p, "bad reply type byte");
			}
			if (p->depth == 0) {
				/* a new reply */
				p->nv = 0;
				p->total_elems = 0;
				fo_buf_clear(&p->strs);
				reserve_values(p, 1);
				p->cur = 0;
			} else {
				p->cur = p->stack[p->depth - 1].next++;
			}
			p->ltype = t;
			p->state = S_LINE;
			fo_buf_clear(&p->line);
			break;
		}
		case S_LINE: {
			const char *nl = memchr(data + i, '\n', len - i);
			if (!nl) {
				if (fo_buf_add(&p->line, data + i, len - i) != 0) {
					*used = len;
					return fail(p, "reply line too long");
				}
				i = len;
				break;
			}
			size_t take = (size_t)(nl - (data + i));
			const char *s;
			size_t n;
			if (p->line.len == 0) {
				s = data + i;
				n = take;
			} else {
				if (fo_buf_add(&p->line, data + i, take) != 0) {
					*used = len;
					return fail(p, "reply line too long");
				}
				s = p->line.s;
				n = p->line.len;
			}
			i += take + 1;
			if (n == 0 || s[n - 1] != '\r') {
				*used = i;
				return fail(p, "reply line does not end with CR LF");
			}
			rc = header(p, s, n - 1);
			if (rc != 0) {
				*used = i;
				if (rc == 1) {
					finish(p);
					*out = &p->v[0];
				}
				return rc;
			}
			break;
		}
		case S_BULK: {
			size_t take = len - i;
			if ((int64_t)take > p->bulk_left)
				take = (size_t)p->bulk_left;
			fo_buf_add(&p->strs, data + i, take);
			i += take;
			p->bulk_left -= (int64_t)take;
			if (p->bulk_left == 0) {
				fo_buf_addch(&p->strs, '\0');
				p->state = S_CRLF;
				p->crlf_left = 2;
			}
			break;
		}
		case S_CRLF: {
			char want = p->crlf_left == 2 ? '\r' : '\n';
			if (data[i++] != want) {
				*used = i;
				return fail(p, "bulk string does not end with CR LF");
			}
			if (--p->crlf_left == 0 && value_done(p)) {
				*used = i;
				finish(p);
				*out = &p->v[0];
				return 1;
			}
			break;
		}
		}
	}
	*used = i;
	return 0;
}

/* ---- encoding ---- */

/* Appends c, the decimal digits of n, then CR LF. */
static void add_prefixed(struct fo_buf *out, char c, size_t n)
{
	char tmp[32];
	size_t k = sizeof(tmp);
	tmp[--k] = '\n';
	tmp[--k] = '\r';
	do {
		tmp[--k] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	tmp[--k] = c;
	fo_buf_add(out, tmp + k, sizeof(tmp) - k);
}

void fo_resp_add_array(struct fo_buf *out, size_t argc)
{
	add_prefixed(out, '*', argc);
}

void fo_resp_begin_bulk(struct fo_buf *out, size_t n)
{
	add_prefixed(out, '$', n);
}

void fo_resp_end_bulk(struct fo_buf *out)
{
	fo_buf_add(out, "\r\n", 2);
}

void fo_resp_add_bulk(struct fo_buf *out, const void *s, size_t n)
{
	add_prefixed(out, '$', n);
	fo_buf_add(out, s, n);
	fo_buf_add(out, "\r\n", 2);
}

void fo_resp_add_command(struct fo_buf *out, const char *const *argv)
{
	size_t argc = 0;
	while (argv[argc])
		argc++;
	fo_resp_add_array(out, argc);
	for (size_t i = 0; i < argc; i++)
		fo_resp_add_bulk(out, argv[i], strlen(argv[i]));
}

void fo_resp_describe(const struct fo_resp_value *v, struct fo_buf *out)
{
	switch (v->type) {
	case FO_RESP_STATUS:
		fo_buf_add(out, v->str, v->len);
		break;
	case FO_RESP_ERROR:
		fo_buf_adds(out, "(error) ");
		fo_buf_add(out, v->str, v->len);
		break;
	case FO_RESP_INTEGER:
		fo_buf_addf(out, "(integer) %lld", (long long)v->integer);
		break;
	case FO_RESP_BULK:
		fo_buf_add_json_str(out, v->str, v->len);
		break;
	case FO_RESP_NIL:
		fo_buf_adds(out, "(nil)");
		break;
	case FO_RESP_ARRAY:
		fo_buf_addch(out, '[');
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fo_buf_adds(out, ", ");
			fo_resp_describe(&v->elems[i], out);
		}
		fo_buf_addch(out, ']');
		break;
	}
}
