/*
 * buf.c: the growable buffer of buf.h.
 */
#include "util/common.h"

#include <sys/stat.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

char fo__buf_empty[1];

void fo_buf_init(struct fo_buf *b, size_t max)
{
	*b = (struct fo_buf)FO_BUF_INIT;
	b->max = max;
}

void fo_buf_release(struct fo_buf *b)
{
	size_t max = b->max;
	if (b->cap)
		fo_free(b->s);
	fo_buf_init(b, max);
}

void fo_buf_clear(struct fo_buf *b)
{
	fo_buf_truncate(b, 0);
}

void fo_buf_truncate(struct fo_buf *b, size_t len)
{
	if (len > b->len)
		return;
	b->len = len;
	if (b->cap)
		b->s[len] = '\0';
}

char *fo_buf_detach(struct fo_buf *b, size_t *len)
{
	char *s = b->cap ? b->s : fo_strdup("");
	if (len)
		*len = b->len;
	size_t max = b->max;
	fo_buf_init(b, max);
	return s;
}

/* Makes room for n more bytes (plus the NUL). Returns 0 or FO_ETOOBIG. */
static int reserve(struct fo_buf *b, size_t n)
{
	if (n > SIZE_MAX - b->len - 1 || (b->max && b->len + n > b->max))
		return FO_ETOOBIG;
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (b->cap) {
		b->s = fo_realloc(b->s, ncap);
	} else {
		b->s = fo_malloc(ncap);
		b->s[0] = '\0';
	}
	b->cap = ncap;
	return 0;
}

int fo_buf_add(struct fo_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	int rc = reserve(b, n);
	if (rc)
		return rc;
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int fo_buf_adds(struct fo_buf *b, const char *s)
{
	return fo_buf_add(b, s, strlen(s));
}

int fo_buf_addch(struct fo_buf *b, char c)
{
	return fo_buf_add(b, &c, 1);
}

int fo_buf_vaddf(struct fo_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return FO_EINVAL;
	int rc = reserve(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int fo_buf_addf(struct fo_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = fo_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int fo_buf_add_json_str(struct fo_buf *b, const char *s, size_t n)
{
	size_t start = b->len;
	int rc = fo_buf_addch(b, '"');
	for (size_t i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': rc = fo_buf_adds(b, "\\\""); break;
		case '\\': rc = fo_buf_adds(b, "\\\\"); break;
		case '\n': rc = fo_buf_adds(b, "\\n"); break;
		case '\r': rc = fo_buf_adds(b, "\\r"); break;
		case '\t': rc = fo_buf_adds(b, "\\t"); break;
		default:
			if (c < 0x20)
				rc = fo_buf_addf(b, "\\u%04x", c);
			else
				rc = fo_buf_addch(b, (char)c);
		}
	}
	if (!rc)
		rc = fo_buf_addch(b, '"');
	if (rc)
		fo_buf_truncate(b, start);
	return rc;
}

int fo_buf_read_file(struct fo_buf *b, const char *path, size_t max, struct fo_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fo_err_set(err, errno == ENOENT ? FO_ENOENT : FO_EIO, "cannot open '%s': %s", path,
				  strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return fo_err_set(err, FO_EIO, "cannot read '%s': it is a directory", path);
	}
	if (max == 0)
		max = b->max;
	size_t start = b->len;
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if ((max && b->len - start + n > max) || fo_buf_add(b, chunk, n)) {
			rc = fo_err_set(err, FO_ETOOBIG, "'%s' is too large (the limit is %zu bytes)", path,
					max ? max : b->max);
			break;
		}
	}
	if (!rc && ferror(f))
		rc = fo_err_set(err, FO_EIO, "cannot read '%s': %s", path, strerror(errno));
	fclose(f);
	if (rc)
		fo_buf_truncate(b, start);
	return rc;
}
