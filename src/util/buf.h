/*
 * buf.h: the one growable byte buffer (git strbuf, curl dynbuf). Always NUL-terminated,
 * so b->s is a C string at any time; may hold NUL bytes in between. A buffer may carry a
 * size cap: an add that would pass it fails with FO_ETOOBIG and leaves the buffer as it
 * was, so a runaway template or a hostile input cannot take all memory.
 *
 *     struct fo_buf b = FO_BUF_INIT;
 *     fo_buf_addf(&b, "%d nodes", n);
 *     puts(b.s);
 *     fo_buf_release(&b);
 */
#ifndef FO_BUF_H
#define FO_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct fo_buf {
	char *s;    /* the bytes, NUL-terminated; never NULL */
	size_t len; /* bytes in use, not counting the terminating NUL */
	size_t cap; /* bytes allocated; 0 while s points at the shared empty string */
	size_t max; /* most bytes len may reach; 0 means no cap */
};

extern char fo__buf_empty[1];
#define FO_BUF_INIT {.s = fo__buf_empty, .len = 0, .cap = 0, .max = 0}

/* Initialises b empty, with a cap of max bytes (0: none). */
void fo_buf_init(struct fo_buf *b, size_t max);
/* Frees b's memory and leaves it empty and usable. */
void fo_buf_release(struct fo_buf *b);
/* Empties b, keeping its memory. */
void fo_buf_clear(struct fo_buf *b);
/* Returns b's bytes as an owned string (caller frees with fo_free); b is left empty.
 * Stores the length in *len when len is not NULL. */
char *fo_buf_detach(struct fo_buf *b, size_t *len);
/* Shortens b to len bytes (len <= b->len). */
void fo_buf_truncate(struct fo_buf *b, size_t len);

/* Appends n bytes. Returns 0, or FO_ETOOBIG past the cap (b unchanged). */
int fo_buf_add(struct fo_buf *b, const void *p, size_t n);
/* Appends a C string. */
int fo_buf_adds(struct fo_buf *b, const char *s);
/* Appends one byte. */
int fo_buf_addch(struct fo_buf *b, char c);
/* Appends printf-style text. */
int fo_buf_addf(struct fo_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends vprintf-style text. */
int fo_buf_vaddf(struct fo_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included. */
int fo_buf_add_json_str(struct fo_buf *b, const char *s, size_t n);

/* Reads the whole file at path into b (appending), refusing files larger than max bytes
 * (0: b's cap). Returns 0, FO_ENOENT, FO_EIO or FO_ETOOBIG; details in err (may be NULL). */
struct fo_err;
int fo_buf_read_file(struct fo_buf *b, const char *path, size_t max, struct fo_err *err);

#endif
