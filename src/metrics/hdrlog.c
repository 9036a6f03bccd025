/*
 * hdrlog.c: interval logs, written and read the way Java's HistogramLogWriter and
 * HistogramLogReader do (see hdrlog.h for the format). Two details matter for matching
 * Java number for number: timestamps are turned into milliseconds with Java's double
 * arithmetic ((long)((ts + base) * 1000.0)), and numbers are printed with Java's %.3f,
 * which rounds half up from the shortest decimal form (C rounds the exact binary value).
 *
 * Unlike Java, which skips or stops at a line it cannot read, the reader refuses a
 * malformed line with "NAME:LINE: reason": a log that lost data must not look whole.
 */
#include "util/common.h"

#include <inttypes.h>
#include <math.h>
#include <time.h>

#include "metrics/hdrlog.h"
#include "util/alloc.h"
#include "util/base64.h"
#include "util/err.h"
#include "util/strutil.h"

/* ---- Java's %.Nf ---- */

void fo_hdrlog_format_double(char *out, size_t n, double v, int decimals)
{
	if (!isfinite(v)) {
		snprintf(out, n, "%s", isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
		return;
	}
	if (fabs(v) >= 1e17 || decimals < 0 || decimals > 30) {
		snprintf(out, n, "%.*f", decimals < 0 ? 0 : decimals, v);
		return;
	}
	/* The shortest digits that read back as v (Java's Double.toString digits). */
	char e[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	/* e is [-]d[.ddd]e[+-]xx: collect the digits and the decimal exponent of the first. */
	const char *s = e;
	bool negative = *s == '-';
	if (negative)
		s++;
	char digits[24];
	int k = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			digits[k++] = *s;
	int x = (int)strtol(s + 1, NULL, 10);
	/* N = v * 10^decimals rounded half up, as a digit string. */
	char num[64];
	int keep = x + decimals + 1, len = 0;
	if (keep <= 0) {
		num[len++] = keep == 0 && digits[0] >= '5' ? '1' : '0';
	} else {
		for (int i = 0; i < keep; i++)
			num[len++] = i < k ? digits[i] : '0';
		if (keep < k && digits[keep] >= '5') {
			int i = len - 1;
			while (i >= 0 && num[i] == '9')
				num[i--] = '0';
			if (i >= 0) {
				num[i]++;
			} else {
				memmove(num + 1, num, (size_t)len);
				num[0] = '1';
				len++;
			}
		}
	}
	/* Pad so there is at least one digit before the point. */
	while (len < decimals + 1) {
		memmove(num + 1, num, (size_t)len);
		num[0] = '0';
		len++;
	}
	int int_digits = len - decimals;
	snprintf(out, n, "%s%.*s%s%.*s", negative ? "-" : "", int_digits, num, decimals ? "." : "", decimals,
		 num + int_digits);
}

/* ---- writing ---- */

void fo_hdrlog_writer_init(struct fo_hdrlog_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->max_value_divisor = 1e6;
}

int fo_hdrlog_writer_open(struct fo_hdrlog_writer *w, const char *path, struct fo_err *err)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return fo_err_set(err, FO_EIO, "cannot write '%s': %s", path, strerror(errno));
	fo_hdrlog_writer_init(w, f);
	w->owns = true;
	return 0;
}

static int check(struct fo_hdrlog_writer *w)
{
	return ferror(w->f) ? FO_EIO : 0;
}

int fo_hdrlog_write_version(struct fo_hdrlog_writer *w)
{
	fputs("#[Histogram log format version 1.3]\n", w->f);
	return check(w);
}

/* Java's Date.toString(): "Tue Nov 14 22:13:20 UTC 2023", in local time. */
static void java_date(char *out, size_t n, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(out, n, "%a %b %d %H:%M:%S %Z %Y", &tm))
		snprintf(out, n, "?");
}

int fo_hdrlog_write_start_time(struct fo_hdrlog_writer *w, double start_time_s)
{
	int64_t ms = fo__java_d2l(start_time_s * 1000);
	char num[64], date[64];
	fo_hdrlog_format_double(num, sizeof(num), (double)ms / 1000.0, 3);
	java_date(date, sizeof(date), ms);
	fprintf(w->f, "#[StartTime: %s (seconds since epoch), %s]\n", num, date);
	return check(w);
}

int fo_hdrlog_write_base_time(struct fo_hdrlog_writer *w, double base_time_s)
{
	int64_t ms = fo__java_d2l(base_time_s * 1000);
	char num[64];
	w->base_time_s = base_time_s;
	fo_hdrlog_format_double(num, sizeof(num), (double)ms / 1000.0, 3);
	fprintf(w->f, "#[BaseTime: %s (seconds since epoch)]\n", num);
	return check(w);
}

int fo_hdrlog_write_legend(struct fo_hdrlog_writer *w)
{
	fputs("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n", w->f);
	return check(w);
}

int fo_hdrlog_write_header(struct fo_hdrlog_writer *w, double start_time_s)
{
	int rc = fo_hdrlog_write_version(w);
	if (!rc)
		rc = fo_hdrlog_write_start_time(w, start_time_s);
	if (!rc && w->base_time_s != 0)
		rc = fo_hdrlog_write_base_time(w, w->base_time_s);
	if (!rc)
		rc = fo_hdrlog_write_legend(w);
	return rc;
}

int fo_hdrlog_write_comment(struct fo_hdrlog_writer *w, const char *text)
{
	fputc('#', w->f);
	for (const char *p = text; *p; p++) {
		fputc(*p, w->f);
		if (*p == '\n')
			fputc('#', w->f);
	}
	fputc('\n', w->f);
	return check(w);
}

int fo_hdrlog_write(struct fo_hdrlog_writer *w, const struct fo_hdr *h)
{
	if (h->tag && (!*h->tag || strpbrk(h->tag, ", \r\n")))
		return FO_EINVAL;
	/* Java's outputIntervalHistogram(histogram): times relative to the base, in seconds. */
	int64_t base_ms = fo__java_d2l(w->base_time_s * 1000);
	double start_s = (double)(h->start_ms - base_ms) / 1000.0;
	double end_s = (double)(h->end_ms - base_ms) / 1000.0;
	double divisor = w->max_value_divisor > 0 ? w->max_value_divisor : 1.0;
	struct fo_buf bin = FO_BUF_INIT, line = FO_BUF_INIT;
	int rc = fo_hdr_encoder_encode(&w->enc, h, &bin);
	if (!rc) {
		char a[64], b[64], c[64];
		fo_hdrlog_format_double(a, sizeof(a), start_s, 3);
		fo_hdrlog_format_double(b, sizeof(b), end_s - start_s, 3);
		fo_hdrlog_format_double(c, sizeof(c), (double)fo_hdr_max(h) / divisor, 3);
		if (h->tag)
			rc = fo_buf_addf(&line, "Tag=%s,", h->tag);
		if (!rc)
			rc = fo_buf_addf(&line, "%s,%s,%s,", a, b, c);
		if (!rc)
			rc = fo_base64_encode(bin.s, bin.len, &line);
		if (!rc)
			rc = fo_buf_addch(&line, '\n');
		if (!rc && fwrite(line.s, 1, line.len, w->f) != line.len)
			rc = FO_EIO;
	}
	fo_buf_release(&bin);
	fo_buf_release(&line);
	return rc;
}

int fo_hdrlog_writer_close(struct fo_hdrlog_writer *w)
{
	int rc = 0;
	fo_hdr_encoder_release(&w->enc);
	if (!w->f)
		return 0;
	if (fflush(w->f) || ferror(w->f))
		rc = FO_EIO;
	if (w->owns && fclose(w->f))
		rc = FO_EIO;
	w->f = NULL;
	return rc;
}

int fo_hdrlog_csv_row(struct fo_buf *out, const struct fo_hdr *h, double log_start_s)
{
	char abs[64];
	fo_hdrlog_format_double(abs, sizeof(abs), (double)h->start_ms / 1000.0, 3);
	return fo_buf_addf(out,
			   "%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
			   ",%" PRId64 ",%" PRId64 ",%" PRId64 "\n",
			   abs, h->start_ms / 1000 - fo__java_d2l(log_start_s), fo_hdr_total(h), fo_hdr_min(h),
			   fo__java_d2l(fo_hdr_mean(h)), fo_hdr_value_at_percentile(h, 50.0),
			   fo_hdr_value_at_percentile(h, 90.0), fo_hdr_value_at_percentile(h, 95.0),
			   fo_hdr_value_at_percentile(h, 99.0), fo_hdr_value_at_percentile(h, 99.9),
			   fo_hdr_value_at_percentile(h, 99.99), fo_hdr_max(h));
}

/* ---- reading ---- */

#define READ_BUFFER (1 << 18) /* bytes read at once from a log the reader opened */

void fo_hdrlog_reader_init(struct fo_hdrlog_reader *r, FILE *f, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->name = name;
	fo_buf_init(&r->bytes, 0);
}

int fo_hdrlog_reader_open(struct fo_hdrlog_reader *r, const char *path, struct fo_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int code = errno == ENOENT ? FO_ENOENT : FO_EIO;
		memset(r, 0, sizeof(*r));
		return fo_err_set(err, code, "cannot open '%s': %s", path, strerror(errno));
	}
	fo_hdrlog_reader_init(r, f, path);
	r->owns = true;
	/* Large reads: interval lines are long and many. */
	r->iobuf = fo_malloc(READ_BUFFER);
	setvbuf(f, r->iobuf, _IOFBF, READ_BUFFER);
	return 0;
}

void fo_hdrlog_reader_close(struct fo_hdrlog_reader *r)
{
	if (r->owns && r->f)
		fclose(r->f);
	r->f = NULL;
	free(r->buf); /* from getline */
	r->buf = NULL;
	fo_free(r->iobuf);
	r->iobuf = NULL;
	fo_buf_release(&r->bytes);
	fo_hdr_decoder_release(&r->dec);
}

/* "#[StartTime: 1438869961.225 (seconds ...": the number after the key, if there is one
 * (Java ignores a comment whose number does not parse, and so do we). */
static bool comment_number(const char *line, const char *key, double *out)
{
	if (!fo_starts_with(line, key))
		return false;
	const char *p = line + strlen(key);
	while (*p == ' ')
		p++;
	char num[64];
	size_t n = strcspn(p, " ,\t");
	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, p, n);
	num[n] = 0;
	return fo_parse_double(num, out);
}

static void read_comment(struct fo_hdrlog_reader *r, const char *line)
{
	double v;
	if (comment_number(line, "#[StartTime:", &v)) {
		r->start_time_s = v;
		r->has_start_time = true;
	} else if (comment_number(line, "#[BaseTime:", &v)) {
		r->base_time_s = v;
		r->has_base_time = true;
		r->decided = false;
		r->absolute = v == 0;
	}
}

/* Sets err to "NAME:LINE: reason" and returns FO_EPARSE. */
static int line_error(struct fo_hdrlog_reader *r, struct fo_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int line_error(struct fo_hdrlog_reader *r, struct fo_err *err, const char *fmt, ...)
{
	char reason[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return fo_err_set(err, FO_EPARSE, "%s:%ld: %s", r->name ? r->name : "<log>", r->line, reason);
}

/* Decodes plain, padded base64 (what every HdrHistogram writer produces) into out, fast.
 * Returns false for anything else (white space, a bad character, no padding): the caller
 * then uses the general decoder, which also says what is wrong. */
static bool base64_fast(const char *s, size_t n, struct fo_buf *out)
{
	static signed char table[256];
	if (!table[0]) {
		memset(table, -1, sizeof(table));
		static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		for (int i = 0; i < 64; i++)
			table[(unsigned char)alphabet[i]] = (signed char)i;
	}
	if (n == 0 || n % 4)
		return false;
	size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
	size_t bytes = n / 4 * 3 - pad;
	fo_buf_clear(out);
	if (out->cap < bytes + 1 && fo_buf_add(out, s, bytes)) /* only to grow the buffer */
		return false;
	unsigned char *o = (unsigned char *)out->s;
	const unsigned char *in = (const unsigned char *)s;
	size_t full = pad ? n - 4 : n, k = 0;
	for (size_t i = 0; i < full; i += 4) {
		int a = table[in[i]], b = table[in[i + 1]], c = table[in[i + 2]], d = table[in[i + 3]];
		if ((a | b | c | d) < 0)
			return false;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		o[k++] = (unsigned char)(v >> 16);
		o[k++] = (unsigned char)(v >> 8);
		o[k++] = (unsigned char)v;
	}
	if (pad) {
		const unsigned char *t = in + n - 4;
		int a = table[t[0]], b = table[t[1]], c = pad == 1 ? table[t[2]] : 0;
		if ((a | b | c) < 0)
			return false;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
		o[k++] = (unsigned char)(v >> 16);
		if (pad == 1)
			o[k++] = (unsigned char)(v >> 8);
	}
	out->len = k;
	out->s[k] = 0;
	return true;
}

/* Parses one field as a finite double, or reports which field was bad. */
static int number_field(struct fo_hdrlog_reader *r, char *field, const char *what, double *out, struct fo_err *err)
{
	if (!fo_parse_double(field, out))
		return line_error(r, err, "invalid %s '%.40s'", what, field);
	return 0;
}

static int parse_interval(struct fo_hdrlog_reader *r, char *line, struct fo_hdrlog_interval *iv, struct fo_err *err)
{
	char *fields[6];
	int n = 0;
	for (char *p = line;;) {
		char *comma = strchr(p, ',');
		if (n < 6)
			fields[n++] = p;
		if (!comma)
			break;
		*comma = 0;
		p = comma + 1;
	}
	const char *tag = NULL;
	int f = 0;
	char *eq = strchr(fields[0], '=');
	if (eq) {
		if (!fo_starts_with(fields[0], "Tag="))
			return line_error(r, err, "unknown key '%.*s' (expected 'Tag=')", (int)(eq - fields[0]), fields[0]);
		tag = fields[0] + 4;
		if (!*tag)
			return line_error(r, err, "empty tag");
		f = 1;
	}
	int have = n - f;
	if (have < 4) {
		if (have == 3)
			return line_error(r, err, "missing histogram (expected start, length, max and histogram)");
		return line_error(r, err, "expected start, length, max and histogram, got %d field%s", have,
				  have == 1 ? "" : "s");
	}
	if (have > 4)
		return line_error(r, err, "unexpected field '%.40s' after the histogram", fields[f + 4]);
	double ts, length, max;
	int rc;
	if ((rc = number_field(r, fields[f], "start timestamp", &ts, err)) ||
	    (rc = number_field(r, fields[f + 1], "interval length", &length, err)) ||
	    (rc = number_field(r, fields[f + 2], "interval max", &max, err)))
		return rc;
	if (length < 0)
		return line_error(r, err, "negative interval length '%s'", fields[f + 1]);
	const char *b64 = fields[f + 3];
	if (!*b64)
		return line_error(r, err, "missing histogram");
	struct fo_err derr = {0};
	fo_buf_clear(&r->bytes);
	size_t b64_len = strlen(b64);
	if (!base64_fast(b64, b64_len, &r->bytes) &&
	    (fo_buf_clear(&r->bytes), fo_base64_decode(b64, b64_len, &r->bytes, &derr)))
		return line_error(r, err, "invalid histogram: %s", derr.msg);
	/* Java's HistogramLogReader: the first interval settles the start and base times. */
	if (!r->has_start_time) {
		r->start_time_s = ts;
		r->has_start_time = true;
	}
	if (!r->has_base_time) {
		r->base_time_s = ts < r->start_time_s - 365 * 24 * 3600.0 ? r->start_time_s : 0.0;
		r->has_base_time = true;
		r->decided = true;
		r->absolute = r->base_time_s == 0;
	}
	double abs_start = ts + r->base_time_s;
	double abs_end = abs_start + length;
	iv->start_ms = fo__java_d2l(abs_start * 1000.0);
	iv->end_ms = fo__java_d2l(abs_end * 1000.0);
	iv->tag = tag;
	iv->data = r->bytes.s;
	iv->len = r->bytes.len;
	return 1;
}

int fo_hdrlog_next(struct fo_hdrlog_reader *r, struct fo_hdrlog_interval *iv, struct fo_err *err)
{
	memset(iv, 0, sizeof(*iv));
	for (;;) {
		errno = 0;
		ssize_t len = getline(&r->buf, &r->cap, r->f);
		if (len < 0) {
			if (ferror(r->f))
				return fo_err_set(err, FO_EIO, "%s: read error: %s", r->name ? r->name : "<log>",
						  strerror(errno ? errno : EIO));
			return 0;
		}
		r->line++;
		while (len > 0 && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r'))
			r->buf[--len] = 0;
		char *line = r->buf;
		if ((size_t)len != strlen(line))
			return line_error(r, err, "NUL byte in line");
		if (len == 0)
			continue;
		if (line[0] == '#') {
			read_comment(r, line);
			continue;
		}
		if (fo_starts_with(line, "\"StartTimestamp\""))
			continue;
		return parse_interval(r, line, iv, err);
	}
}

int fo_hdrlog_decode(struct fo_hdrlog_reader *r, const struct fo_hdrlog_interval *iv, struct fo_hdr *h,
		     struct fo_err *err)
{
	struct fo_err derr = {0};
	if (fo_hdr_decoder_decode(&r->dec, iv->data, iv->len, h, &derr))
		return line_error(r, err, "invalid histogram: %s", derr.msg);
	h->start_ms = iv->start_ms;
	h->end_ms = iv->end_ms;
	if (iv->tag)
		h->tag = fo_strdup(iv->tag);
	return 0;
}

int fo_hdrlog_add(struct fo_hdrlog_reader *r, const struct fo_hdrlog_interval *iv, struct fo_hdr *acc,
		  struct fo_err *err)
{
	struct fo_err derr = {0};
	if (fo_hdr_decoder_add(&r->dec, iv->data, iv->len, acc, &derr))
		return line_error(r, err, "invalid histogram: %s", derr.msg);
	/* fo_hdr_add's widening of the times, with the interval's */
	if (iv->start_ms && (!acc->start_ms || iv->start_ms < acc->start_ms))
		acc->start_ms = iv->start_ms;
	if (iv->end_ms > acc->end_ms)
		acc->end_ms = iv->end_ms;
	return 0;
}

int fo_hdrlog_read(struct fo_hdrlog_reader *r, struct fo_hdr *h, struct fo_err *err)
{
	memset(h, 0, sizeof(*h));
	struct fo_hdrlog_interval iv;
	int rc = fo_hdrlog_next(r, &iv, err);
	if (rc == 1 && (rc = fo_hdrlog_decode(r, &iv, h, err)) == 0)
		rc = 1;
	return rc;
}
