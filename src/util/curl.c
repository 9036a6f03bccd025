/*
 * curl.c: loads libcurl with dlopen on first use (see curl.h for why), once per process
 * under pthread_once, and keeps the reason when it cannot be loaded so every caller can
 * report it.
 */
#include "util/common.h"

#include <dlfcn.h>
#include <pthread.h>

#include "util/curl.h"
#include "util/err.h"

static struct fo_curl lc;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[256];

static void load(void)
{
	void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return;
	}
	CURLcode (*global_init)(long flags);
	*(void **)&global_init = dlsym(lib, "curl_global_init");
	*(void **)&lc.easy_init = dlsym(lib, "curl_easy_init");
	*(void **)&lc.easy_setopt = dlsym(lib, "curl_easy_setopt");
	*(void **)&lc.easy_perform = dlsym(lib, "curl_easy_perform");
	*(void **)&lc.easy_getinfo = dlsym(lib, "curl_easy_getinfo");
	*(void **)&lc.easy_strerror = dlsym(lib, "curl_easy_strerror");
	*(void **)&lc.easy_cleanup = dlsym(lib, "curl_easy_cleanup");
	*(void **)&lc.slist_append = dlsym(lib, "curl_slist_append");
	*(void **)&lc.slist_free_all = dlsym(lib, "curl_slist_free_all");
	if (!global_init || !lc.easy_init || !lc.easy_setopt || !lc.easy_perform || !lc.easy_getinfo ||
	    !lc.easy_strerror || !lc.easy_cleanup || !lc.slist_append || !lc.slist_free_all) {
		snprintf(load_error, sizeof(load_error), "libcurl.so.4 lacks a function fallout needs");
		return;
	}
	CURLcode rc = global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(load_error, sizeof(load_error), "%s", lc.easy_strerror(rc));
		return;
	}
	loaded = true;
}

const struct fo_curl *fo_curl_load(struct fo_err *err)
{
	pthread_once(&once, load);
	if (!loaded) {
		fo_err_set(err, FO_ENET, "cannot start libcurl: %s", load_error);
		return NULL;
	}
	return &lc;
}
