/*
 * arena.c: the region allocator of arena.h. Memory comes in blocks of at least 16 KiB;
 * a request larger than a quarter block gets a block of its own.
 */
#include "util/common.h"

#include "util/alloc.h"
#include "util/arena.h"

#define BLOCK_SIZE 16384
#define ALIGN _Alignof(max_align_t)

struct block {
	struct block *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	max_align_t data[];
};

struct cleanup {
	struct cleanup *next;
	fo_cleanup_fn fn;
	void *data;
};

struct fo_arena {
	struct block *blocks; /* newest first; the head is where small requests go */
	struct cleanup *cleanups;
	size_t total;
};

struct fo_arena *fo_arena_new(void)
{
	return fo_calloc(1, sizeof(struct fo_arena));
}

void fo_arena_free(struct fo_arena *a)
{
	if (!a)
		return;
	for (struct cleanup *c = a->cleanups, *next; c; c = next) {
		next = c->next;
		c->fn(c->data);
		fo_free(c);
	}
	for (struct block *b = a->blocks, *next; b; b = next) {
		next = b->next;
		fo_free(b);
	}
	fo_free(a);
}

static struct block *new_block(size_t size)
{
	struct block *b = fo_malloc(sizeof(struct block) + size);
	b->size = size;
	b->used = 0;
	return b;
}

void *fo_arena_alloc(struct fo_arena *a, size_t n)
{
	if (n > SIZE_MAX - ALIGN)
		fo_malloc(SIZE_MAX); /* reports out of memory */
	n = (n + ALIGN - 1) & ~(ALIGN - 1);
	if (n == 0)
		n = ALIGN;
	a->total += n;
	struct block *head = a->blocks;
	if (head && head->size - head->used >= n) {
		void *p = (char *)head->data + head->used;
		head->used += n;
		memset(p, 0, n);
		return p;
	}
	if (n > BLOCK_SIZE / 4) {
		/* A big object gets its own block, kept behind the head. */
		struct block *b = new_block(n);
		b->used = n;
		if (head) {
			b->next = head->next;
			head->next = b;
		} else {
			b->next = NULL;
			a->blocks = b;
		}
		memset(b->data, 0, n);
		return b->data;
	}
	struct block *b = new_block(BLOCK_SIZE);
	b->next = head;
	a->blocks = b;
	b->used = n;
	memset(b->data, 0, n);
	return b->data;
}

void *fo_arena_memdup(struct fo_arena *a, const void *p, size_t n)
{
	void *q = fo_arena_alloc(a, n);
	if (n)
		memcpy(q, p, n);
	return q;
}

char *fo_arena_strndup(struct fo_arena *a, const char *s, size_t n)
{
	char *p = fo_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *fo_arena_strdup(struct fo_arena *a, const char *s)
{
	return fo_arena_strndup(a, s, strlen(s));
}

char *fo_arena_vprintf(struct fo_arena *a, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return fo_arena_strdup(a, "");
	char *p = fo_arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *fo_arena_printf(struct fo_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = fo_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void fo_arena_cleanup_add(struct fo_arena *a, fo_cleanup_fn fn, void *data)
{
	struct cleanup *c = fo_malloc(sizeof(*c));
	c->fn = fn;
	c->data = data;
	c->next = a->cleanups;
	a->cleanups = c;
}

size_t fo_arena_used(const struct fo_arena *a)
{
	return a->total;
}
