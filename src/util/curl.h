/*
 * curl.h: libcurl, loaded on first use with dlopen rather than linked: merely linking it
 * costs every fallout command about 7 ms of library start-up, and only a few commands
 * (url files of definitions, the server's clients) need it. One loader for all of them.
 *
 *     struct fo_err err = {0};
 *     const struct fo_curl *lc = fo_curl_load(&err);
 *     if (!lc)
 *             return report(err.msg);
 *     CURL *h = lc->easy_init();
 *
 * curl_easy_setopt and curl_easy_getinfo are variadic: pass arguments of the exact type
 * libcurl expects (long, curl_off_t, pointers), as with the linked library.
 */
#ifndef FO_UTIL_CURL_H
#define FO_UTIL_CURL_H

#include <curl/curl.h>

struct fo_err;

/* The libcurl functions fallout uses. */
struct fo_curl {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode c);
	void (*easy_cleanup)(CURL *h);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
};

/*
 * Loads libcurl.so.4 and runs curl_global_init, once per process (thread-safe). Returns
 * the function table (static, never freed), or NULL with FO_ENET and the reason
 * ("cannot start libcurl: ...") in err (may be NULL).
 */
const struct fo_curl *fo_curl_load(struct fo_err *err);

#endif
