/*
 * arena.h: a region allocator (nginx pools, h2o mem_pool). Objects that live and die
 * together (a parsed definition, a run, an HTTP request) are allocated from one arena
 * and freed at once by fo_arena_free, which also runs the registered cleanup callbacks
 * (newest first) for resources that are not memory: files, regexes, child processes.
 */
#ifndef FO_ARENA_H
#define FO_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct fo_arena;

typedef void (*fo_cleanup_fn)(void *data);

/* Returns a new, empty arena (owned; free with fo_arena_free). */
struct fo_arena *fo_arena_new(void);
/* Runs the cleanups, then frees every block and the arena itself. NULL is fine. */
void fo_arena_free(struct fo_arena *a);

/* Returns n zeroed bytes owned by the arena, aligned for any type. */
void *fo_arena_alloc(struct fo_arena *a, size_t n);
/* Returns an arena copy of nmemb elements of size bytes from p (p may be NULL if nmemb is 0). */
void *fo_arena_memdup(struct fo_arena *a, const void *p, size_t n);
/* Returns an arena-owned copy of s. */
char *fo_arena_strdup(struct fo_arena *a, const char *s);
/* Returns an arena-owned, NUL-terminated copy of n bytes of s. */
char *fo_arena_strndup(struct fo_arena *a, const char *s, size_t n);
/* Returns an arena-owned formatted string. */
char *fo_arena_printf(struct fo_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *fo_arena_vprintf(struct fo_arena *a, const char *fmt, va_list ap);

/* Registers fn(data) to run when the arena is freed. */
void fo_arena_cleanup_add(struct fo_arena *a, fo_cleanup_fn fn, void *data);

/* Bytes handed out so far (for limits and tests). */
size_t fo_arena_used(const struct fo_arena *a);

#define FO_ANEW(a, type) ((type *)fo_arena_alloc((a), sizeof(type)))
#define FO_ANEWN(a, type, n) ((type *)fo_arena_alloc((a), sizeof(type) * (n)))

#endif
