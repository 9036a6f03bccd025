/*
 * union.c: the union of interval logs by Fallout's rule (see union.h): a merge of the
 * inputs by interval start time, one union in progress per tag, each closed union handed
 * to the caller and written to the union log. `fallout hdr merge` writes the log; the run
 * reports (report/perf.c) also turn each union into an interval of a series.
 */
#include "util/common.h"

#include <math.h>

#include "metrics/union.h"
#include "util/alloc.h"
#include "util/err.h"

#define JOIN_OVERLAP 0.8 /* share of an interval inside a union that makes it join */

static int advance(struct fo_union *u, size_t i, struct fo_err *err)
{
	if (u->has_next[i])
		fo_hdr_release(&u->next[i]);
	u->has_next[i] = false;
	int rc = fo_hdrlog_read(u->in[i], &u->next[i], err);
	if (rc < 0)
		return rc;
	u->has_next[i] = rc == 1;
	return 0;
}

int fo_union_init(struct fo_union *u, struct fo_hdrlog_reader *const *in, size_t n, struct fo_err *err)
{
	*u = (struct fo_union){.in = in, .nin = n};
	u->next = fo_calloc(n ? n : 1, sizeof(*u->next));
	u->has_next = fo_calloc(n ? n : 1, sizeof(*u->has_next));
	for (size_t i = 0; i < n; i++) {
		int rc = advance(u, i, err);
		if (rc)
			return rc;
		const struct fo_hdrlog_reader *r = in[i];
		if (r->has_start_time && (u->start_s == 0 || r->start_time_s < u->start_s))
			u->start_s = r->start_time_s;
		if (u->has_next[i]) {
			int64_t o = u->next[i].start_ms;
			int64_t st = fo__java_d2l(round(r->start_time_s * 1000.0));
			if (r->has_start_time && st < o)
				o = st;
			if (!u->any || o < u->origin_ms)
				u->origin_ms = o;
			u->any = true;
		}
	}
	return 0;
}

/* Sets err to "cannot write 'PATH': reason" and returns FO_EIO. */
static int write_error(struct fo_union *u, struct fo_err *err)
{
	return fo_err_set(err, FO_EIO, "cannot write '%s': %s", u->out_path, strerror(errno ? errno : EIO));
}

int fo_union_write_log(struct fo_union *u, const char *path, struct fo_err *err)
{
	fo_free(u->out_path);
	u->out_path = fo_strdup(path);
	errno = 0;
	int rc = fo_hdrlog_writer_open(&u->w, path, err);
	if (rc)
		return rc;
	u->writing = true;
	rc = fo_hdrlog_write_version(&u->w);
	if (!rc && u->start_s != 0)
		rc = fo_hdrlog_write_base_time(&u->w, u->start_s);
	if (!rc && u->start_s != 0)
		rc = fo_hdrlog_write_start_time(&u->w, u->start_s);
	if (!rc)
		rc = fo_hdrlog_write_legend(&u->w);
	return rc ? write_error(u, err) : 0;
}

/* The union in progress of tag, made on first use. */
static struct fo_union_tag *tag_get(struct fo_union *u, const char *tag)
{
	for (size_t i = 0; i < u->ntags; i++)
		if (fo_hdr_tag_equal(u->tags[i].tag, tag))
			return &u->tags[i];
	FO_GROW(u->tags, u->tags_cap, u->ntags + 1);
	struct fo_union_tag *t = &u->tags[u->ntags++];
	*t = (struct fo_union_tag){.tag = tag ? fo_strdup(tag) : NULL};
	t->seen = fo_calloc(u->nin ? u->nin : 1, sizeof(*t->seen));
	return t;
}

/* Closes t's union: hands it to emit, writes it, and empties it. */
static int close_union(struct fo_union *u, struct fo_union_tag *t, fo_union_emit_fn emit, void *ctx,
		       struct fo_err *err)
{
	t->u.start_ms = t->start_ms;
	t->u.end_ms = t->end_ms;
	fo_hdr_set_tag(&t->u, t->tag);
	int rc = 0;
	errno = 0;
	if (u->writing && (rc = fo_hdrlog_write(&u->w, &t->u)) != 0)
		rc = rc == FO_EINVAL ? fo_err_set(err, rc, "cannot write '%s': tag '%s' has a comma, space or line break",
						  u->out_path, t->tag)
				     : write_error(u, err);
	if (!rc && emit)
		rc = emit(ctx, t, err);
	u->intervals_out++;
	fo_hdr_reset(&t->u);
	t->open = false;
	return rc;
}

/* Adds h, the next interval of input i, to its tag's union by the rule in union.h. */
static int unite_one(struct fo_union *u, size_t i, const struct fo_hdr *h, fo_union_emit_fn emit, void *ctx,
		     struct fo_err *err)
{
	struct fo_union_tag *t = tag_get(u, h->tag);
	int64_t s = h->start_ms, e = h->end_ms;
	bool join = false;
	if (t->open && s < t->end_ms)
		join = e <= t->end_ms || (double)(t->end_ms - s) / (double)(e - s) > JOIN_OVERLAP;
	if (!join) {
		int rc = t->open ? close_union(u, t, emit, ctx, err) : 0;
		if (rc)
			return rc;
		if (!t->u.counts) {
			/* Java's new Histogram(sigfigs): 1..2, growing */
			if (fo_hdr_init(&t->u, 1, 2, h->sigfigs))
				return fo_err_set(err, FO_EINVAL, "%s: invalid histogram of %d significant digits",
						  u->in[i]->name, h->sigfigs);
			t->u.auto_resize = true;
		}
		t->open = true;
		t->start_ms = s;
		t->end_ms = e;
	}
	if (fo_hdr_accumulate(&t->u, h) != 0)
		return fo_err_set(err, FO_EINVAL, "%s: values out of range", u->in[i]->name ? u->in[i]->name : "<log>");
	t->seen[i] = true;
	return 0;
}

/* The open union that started first (ties: untagged, then by tag), or NULL. */
static struct fo_union_tag *first_open(struct fo_union *u)
{
	struct fo_union_tag *best = NULL;
	for (size_t i = 0; i < u->ntags; i++) {
		struct fo_union_tag *t = &u->tags[i];
		if (!t->open)
			continue;
		if (!best || t->start_ms < best->start_ms)
			best = t;
		else if (t->start_ms == best->start_ms && best->tag && (!t->tag || strcmp(t->tag, best->tag) < 0))
			best = t;
	}
	return best;
}

int fo_union_run(struct fo_union *u, fo_union_emit_fn emit, void *ctx, struct fo_err *err)
{
	int rc = 0;
	while (!rc) {
		/* The interval that starts first, across all inputs (ties: the first input). */
		size_t min = u->nin;
		for (size_t i = 0; i < u->nin; i++)
			if (u->has_next[i] && (min == u->nin || u->next[i].start_ms < u->next[min].start_ms))
				min = i;
		if (min == u->nin)
			break;
		u->intervals_in++;
		rc = unite_one(u, min, &u->next[min], emit, ctx, err);
		if (!rc)
			rc = advance(u, min, err);
	}
	for (struct fo_union_tag *t; !rc && (t = first_open(u)) != NULL;)
		rc = close_union(u, t, emit, ctx, err);
	if (u->writing) {
		u->writing = false;
		errno = 0;
		if (fo_hdrlog_writer_close(&u->w) != 0 && !rc)
			rc = write_error(u, err);
	}
	return rc;
}

void fo_union_release(struct fo_union *u)
{
	for (size_t i = 0; u->has_next && i < u->nin; i++)
		if (u->has_next[i])
			fo_hdr_release(&u->next[i]);
	fo_free(u->next);
	fo_free(u->has_next);
	for (size_t i = 0; i < u->ntags; i++) {
		fo_free(u->tags[i].tag);
		fo_free(u->tags[i].seen);
		fo_hdr_release(&u->tags[i].u);
	}
	fo_free(u->tags);
	if (u->writing)
		fo_hdrlog_writer_close(&u->w);
	fo_free(u->out_path);
	*u = (struct fo_union){0};
}
