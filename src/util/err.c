/*
 * err.c: names and messages of the error codes, and the first-failure-wins recorder.
 */
#include "util/common.h"

#include "util/err.h"

struct code_info {
	int code;
	const char *name;
	const char *msg;
};

static const struct code_info codes[] = {
#define XX(code, msg) {FO_E##code, "FO_E" #code, msg},
	FO_ERRNO_MAP(XX)
#undef XX
};

static const struct code_info *find(int code)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(codes); i++)
		if (codes[i].code == code)
			return &codes[i];
	return NULL;
}

const char *fo_strerror(int code)
{
	const struct code_info *c = find(code);
	return c ? c->msg : "unknown error";
}

const char *fo_err_name(int code)
{
	const struct code_info *c = find(code);
	return c ? c->name : "FO_E?";
}

static int vset(struct fo_err *err, int code, const struct fo_pos *pos, const char *fmt, va_list ap)
{
	if (!err || err->code)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	err->pos = (struct fo_pos){0};
	if (pos && pos->file) {
		snprintf(err->file, sizeof(err->file), "%s", pos->file);
		err->pos = *pos;
		err->pos.file = err->file;
	}
	return code;
}

int fo_err_set(struct fo_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int fo_err_setpos(struct fo_err *err, int code, const struct fo_pos *pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, pos, fmt, ap);
	va_end(ap);
	return code;
}

void fo_err_clear(struct fo_err *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

void fo_err_format(const struct fo_err *err, char *out, size_t n)
{
	if (err->pos.file && err->pos.line > 0)
		snprintf(out, n, "%s:%d:%d: %s", err->pos.file, err->pos.line, err->pos.col, err->msg);
	else if (err->pos.file)
		snprintf(out, n, "%s: %s", err->pos.file, err->msg);
	else
		snprintf(out, n, "%s", err->msg);
}
