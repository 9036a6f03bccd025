/*
 * alloc.c: the allocation wrappers of alloc.h, with an injectable failure counter for
 * tests and a replaceable out-of-memory handler.
 */
#include "util/common.h"

#include "util/alloc.h"

static fo_oom_fn oom_handler;
static long fail_countdown;

static void default_oom(size_t size)
{
	fprintf(stderr, "fallout: out of memory (allocating %zu bytes)\n", size);
	abort();
}

static void oom(size_t size)
{
	(oom_handler ? oom_handler : default_oom)(size);
	abort(); /* a handler must not return */
}

/* Returns true when the injected failure is due now. */
static bool injected_failure(void)
{
	if (fail_countdown <= 0)
		return false;
	return --fail_countdown == 0;
}

void *fo_malloc(size_t n)
{
	void *p = injected_failure() ? NULL : malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *fo_calloc(size_t nmemb, size_t size)
{
	void *p = NULL;
	if (size && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	if (!injected_failure())
		p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *fo_realloc(void *p, size_t n)
{
	void *q = injected_failure() ? NULL : realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *fo_reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return fo_realloc(p, nmemb * size);
}

char *fo_strdup(const char *s)
{
	return fo_strndup(s, strlen(s));
}

char *fo_strndup(const char *s, size_t n)
{
	char *p = fo_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void fo_free(void *p)
{
	free(p);
}

void fo_alloc_set_oom_handler(fo_oom_fn fn)
{
	oom_handler = fn;
}

void fo_alloc_fail_after(long n)
{
	fail_countdown = n;
}

void fo__grow(void **arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return;
	size_t ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	*arr = fo_reallocarray(*arr, ncap, size);
	*cap = ncap;
}
