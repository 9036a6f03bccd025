/*
 * resp.h: the Redis serialization protocol (RESP2), both ways, for the load driver and
 * anything else that talks to Redis: an encoder for commands (arrays of bulk strings) and
 * an incremental reply parser.
 *
 * The parser is a state machine fed whatever bytes arrived: a reply split over any number
 * of reads is parsed once, never rescanned, and a read holding many pipelined replies gives
 * them one by one. A finished reply is a tree of struct fo_resp_value whose strings and
 * elements live in the parser and stay valid until the next call; nothing is allocated
 * per reply once the parser's buffers have grown to the replies' size.
 *
 *     struct fo_resp_parser p;
 *     fo_resp_parser_init(&p);
 *     size_t used;
 *     const struct fo_resp_value *v;
 *     while (len > 0 && (rc = fo_resp_parse(&p, data, len, &used, &v)) >= 0) {
 *             data += used, len -= used;
 *             if (rc == 1) handle(v);   // rc 0: every byte was taken, need more
 *     }
 *
 * Limits keep a hostile or broken server from taking all memory: a bulk string of at most
 * FO_RESP_MAX_BULK bytes, an array of at most FO_RESP_MAX_ELEMS elements in all, nesting of
 * at most FO_RESP_MAX_DEPTH, a status or header line of at most FO_RESP_MAX_LINE bytes.
 */
#ifndef FO_RESP_H
#define FO_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define FO_RESP_MAX_BULK (512u * 1024 * 1024)
#define FO_RESP_MAX_ELEMS (1u << 20)
#define FO_RESP_MAX_DEPTH 16
#define FO_RESP_MAX_LINE 65536

enum fo_resp_type {
	FO_RESP_STATUS,  /* +OK */
	FO_RESP_ERROR,   /* -ERR message */
	FO_RESP_INTEGER, /* :42 */
	FO_RESP_BULK,    /* $3\r\nfoo */
	FO_RESP_ARRAY,   /* *2\r\n... */
	FO_RESP_NIL      /* $-1 or *-1 */
};

/* One value of a reply. */
struct fo_resp_value {
	enum fo_resp_type type;
	int64_t integer;                    /* INTEGER */
	const char *str;                    /* STATUS, ERROR, BULK: NUL-terminated, may hold NULs */
	size_t len;                         /* its length */
	const struct fo_resp_value *elems;  /* ARRAY: n elements */
	size_t n;
	/* private: offsets while the reply is being parsed */
	size_t str_off, first;
};

/* The parser's state between calls. Zero it with fo_resp_parser_init. */
struct fo_resp_parser {
	int state;                /* what the next byte is (private) */
	char ltype;               /* the type byte of the header line being read */
	struct fo_resp_value *v;  /* the values of the reply being parsed; v[0] is the root */
	size_t nv, vcap;
	struct fo_buf strs;       /* the strings of the reply, each NUL-terminated */
	struct fo_buf line;       /* a header line split across reads */
	size_t cur;               /* the value being filled */
	int64_t bulk_left;        /* bytes of the bulk string still to come */
	int crlf_left;            /* 2, 1: the CR LF after a bulk string still to come */
	struct {
		size_t arr;       /* the array's value */
		size_t next;      /* the element to fill next */
	} stack[FO_RESP_MAX_DEPTH];
	int depth;
	size_t total_elems;       /* elements in the reply so far (against FO_RESP_MAX_ELEMS) */
	char err[96];             /* why the stream is broken, after FO_EPARSE */
};

void fo_resp_parser_init(struct fo_resp_parser *p);
void fo_resp_parser_release(struct fo_resp_parser *p);
/* Forgets a reply in progress (after a reconnect). */
void fo_resp_parser_reset(struct fo_resp_parser *p);

/*
 * Parses bytes of data[0..len). Sets *used to the bytes taken. Returns 1 when a reply is
 * complete (*out borrowed: valid until the next call), 0 when every byte was taken and the
 * reply is not complete yet, or FO_EPARSE when the stream is not RESP (p->err says why;
 * the connection is then useless).
 */
int fo_resp_parse(struct fo_resp_parser *p, const char *data, size_t len, size_t *used,
		  const struct fo_resp_value **out);

/* ---- encoding ---- */

/* Appends the header of a command of argc arguments ("*3\r\n"). */
void fo_resp_add_array(struct fo_buf *out, size_t argc);
/* Appends one argument as a bulk string ("$3\r\nfoo\r\n"). */
void fo_resp_add_bulk(struct fo_buf *out, const void *s, size_t n);
/* Appends a bulk string whose bytes are given in pieces: the header, then the caller adds
 * exactly n bytes with fo_buf_add, then fo_resp_end_bulk. */
void fo_resp_begin_bulk(struct fo_buf *out, size_t n);
void fo_resp_end_bulk(struct fo_buf *out);
/* Appends a whole command from C strings (argv NULL-terminated). */
void fo_resp_add_command(struct fo_buf *out, const char *const *argv);

/* Appends v to out in a readable form (for messages and tests): "OK", "(error) ERR x",
 * "(integer) 1", "\"foo\"", "(nil)", "[a, b]". */
void fo_resp_describe(const struct fo_resp_value *v, struct fo_buf *out);

#endif
