/*
 * diag.c: the diagnostics list of diag.h.
 */
#include "util/common.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/diag.h"

void fo_diags_release(struct fo_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		fo_free(d->v[i].file);
		fo_free(d->v[i].msg);
	}
	fo_free(d->v);
	*d = (struct fo_diags)FO_DIAGS_INIT;
}

static bool same(const struct fo_diag *x, enum fo_severity sev, const struct fo_pos *pos, const char *msg)
{
	const char *file = pos ? pos->file : NULL;
	if (x->sev != sev || strcmp(x->msg, msg) != 0)
		return false;
	if (!file != !x->file || (file && strcmp(file, x->file) != 0))
		return false;
	return !pos || (x->line == pos->line && x->col == pos->col);
}

void fo_diags_vadd(struct fo_diags *d, enum fo_severity sev, const struct fo_pos *pos, const char *fmt,
		   va_list ap)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_buf_vaddf(&b, fmt, ap);
	for (size_t i = 0; i < d->n; i++) {
		if (same(&d->v[i], sev, pos, b.s)) {
			fo_buf_release(&b);
			return;
		}
	}
	FO_GROW(d->v, d->cap, d->n + 1);
	struct fo_diag *x = &d->v[d->n];
	x->sev = sev;
	x->file = pos && pos->file ? fo_strdup(pos->file) : NULL;
	x->line = pos ? pos->line : 0;
	x->col = pos ? pos->col : 0;
	x->msg = fo_buf_detach(&b, NULL);
	x->seq = (unsigned)d->n;
	d->n++;
	if (sev == FO_SEV_ERROR)
		d->errors++;
	else
		d->warnings++;
}

void fo_diags_error(struct fo_diags *d, const struct fo_pos *pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fo_diags_vadd(d, FO_SEV_ERROR, pos, fmt, ap);
	va_end(ap);
}

void fo_diags_warn(struct fo_diags *d, const struct fo_pos *pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fo_diags_vadd(d, FO_SEV_WARNING, pos, fmt, ap);
	va_end(ap);
}

void fo_diags_add_err(struct fo_diags *d, const struct fo_err *err)
{
	if (!err->code)
		return;
	fo_diags_error(d, err->pos.file ? &err->pos : NULL, "%s", err->msg);
}

static int cmp(const void *a, const void *b)
{
	const struct fo_diag *x = a, *y = b;
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void fo_diags_sort(struct fo_diags *d)
{
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(d->v[0]), cmp);
}

void fo_diags_print(const struct fo_diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct fo_diag *x = &d->v[i];
		const char *sev = x->sev == FO_SEV_ERROR ? "error" : "warning";
		if (x->file && x->line > 0)
			fprintf(out, "%s:%d:%d: %s: %s\n", x->file, x->line, x->col, sev, x->msg);
		else if (x->file)
			fprintf(out, "%s: %s: %s\n", x->file, sev, x->msg);
		else
			fprintf(out, "%s: %s\n", sev, x->msg);
	}
}

int fo_diags_contains(const struct fo_diags *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, needle))
			return 1;
	return 0;
}
