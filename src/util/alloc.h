/*
 * alloc.h: every allocation in fallout goes through these wrappers (Redis zmalloc).
 * They never return NULL: on exhaustion they call the out-of-memory handler, which by
 * default prints one line and aborts. Tests replace the handler and use
 * fo_alloc_fail_after() to make the Nth allocation fail, so out-of-memory paths can be
 * exercised deterministically.
 */
#ifndef FO_ALLOC_H
#define FO_ALLOC_H

#include <stddef.h>

/* Called when an allocation of `size` bytes fails. Must not return. */
typedef void (*fo_oom_fn)(size_t size);

/* Returns owned memory of at least n bytes (n may be 0). */
void *fo_malloc(size_t n);
/* Returns owned zeroed memory for nmemb * size bytes; overflow counts as exhaustion. */
void *fo_calloc(size_t nmemb, size_t size);
/* Resizes p (owned by the caller, may be NULL); returns the new owned pointer. */
void *fo_realloc(void *p, size_t n);
/* Resizes an array of nmemb elements of size bytes, checking for overflow. */
void *fo_reallocarray(void *p, size_t nmemb, size_t size);
/* Returns an owned copy of s. */
char *fo_strdup(const char *s);
/* Returns an owned, NUL-terminated copy of the first n bytes of s. */
char *fo_strndup(const char *s, size_t n);
/* Frees p; NULL is fine. */
void fo_free(void *p);

/* Replaces the out-of-memory handler; NULL restores the default. */
void fo_alloc_set_oom_handler(fo_oom_fn fn);
/* For tests: the nth allocation from now fails (1 = the next one); 0 disables. */
void fo_alloc_fail_after(long n);

/* Grows *arr (of *cap elements of size `size`) so it holds at least `need` elements. */
void fo__grow(void **arr, size_t *cap, size_t need, size_t size);
#define FO_GROW(arr, cap, need) fo__grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

#endif
