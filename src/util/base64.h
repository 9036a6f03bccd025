/*
 * base64.h: Base64 of RFC 4648 (the standard alphabet, `+` and `/`), for the `base64`
 * content of local files and anything else that carries bytes inside text.
 *
 * Encoding always pads with `=`. Decoding is forgiving where users are: white space
 * anywhere (line-wrapped text from `base64` or a YAML block scalar) is skipped, and the
 * final padding may be left out. It is strict about everything else: a character outside
 * the alphabet, padding in the middle, text after the padding, or a lone trailing
 * character are errors that say where they are.
 */
#ifndef FO_BASE64_H
#define FO_BASE64_H

#include <stddef.h>

struct fo_buf;
struct fo_err;

/* Returns how many characters encoding n bytes gives (no NUL counted). */
size_t fo_base64_encoded_len(size_t n);

/*
 * Appends the Base64 text of the n bytes at p (borrowed) to out. Returns 0, or
 * FO_ETOOBIG past out's cap (out unchanged).
 */
int fo_base64_encode(const void *p, size_t n, struct fo_buf *out);

/*
 * Appends the bytes encoded by the len characters of s (borrowed; need not be
 * NUL-terminated) to out. Returns 0, FO_EINVAL for text that is not Base64 (the reason,
 * with the offset of the offending character, in err, which may be NULL), or FO_ETOOBIG
 * past out's cap. On failure out is left as it was.
 */
int fo_base64_decode(const char *s, size_t len, struct fo_buf *out, struct fo_err *err);

#endif
