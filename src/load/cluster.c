/*
 * cluster.c: key slots, the slot map and redirections of cluster.h. The CRC16 table is
 * computed once, on first use, from the polynomial.
 */
#include "util/common.h"

#include <pthread.h>

#include "load/cluster.h"
#include "load/resp.h"
#include "util/alloc.h"
#include "util/err.h"

static uint16_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint16_t c = (uint16_t)(i << 8);
		for (int k = 0; k < 8; k++)
			c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
		crc_table[i] = c;
	}
}

uint16_t fo_crc16(const void *data, size_t len)
{
	pthread_once(&crc_once, crc_table_init);
	const unsigned char *p = data;
	uint16_t crc = 0;
	for (size_t i = 0; i < len; i++)
		crc = (uint16_t)((crc << 8) ^ crc_table[((crc >> 8) ^ p[i]) & 0xff]);
	return crc;
}

unsigned fo_cluster_keyslot(const void *key, size_t len)
{
	const char *k = key;
	const char *open = memchr(k, '{', len);
	if (open) {
		size_t from = (size_t)(open - k) + 1;
		const char *close = memchr(k + from, '}', len - from);
		if (close && close > k + from)
			return fo_crc16(k + from, (size_t)(close - (k + from))) & (FO_CLUSTER_SLOTS - 1);
	}
	return fo_crc16(k, len) & (FO_CLUSTER_SLOTS - 1);
}

void fo_cluster_map_init(struct fo_cluster_map *m)
{
	m->addrs = NULL;
	m->naddrs = m->cap = 0;
	for (size_t i = 0; i < FO_CLUSTER_SLOTS; i++)
		m->owner[i] = -1;
}

void fo_cluster_map_release(struct fo_cluster_map *m)
{
	for (size_t i = 0; i < m->naddrs; i++)
		fo_free(m->addrs[i]);
	fo_free(m->addrs);
	fo_cluster_map_init(m);
}

void fo_cluster_map_copy(struct fo_cluster_map *dst, const struct fo_cluster_map *src)
{
	fo_cluster_map_init(dst);
	for (size_t i = 0; i < src->naddrs; i++)
		fo_cluster_map_addr(dst, src->addrs[i], strlen(src->addrs[i]));
	memcpy(dst->owner, src->owner, sizeof(dst->owner));
}

int fo_cluster_map_addr(struct fo_cluster_map *m, const char *addr, size_t len)
{
	for (size_t i = 0; i < m->naddrs; i++)
		if (strlen(m->addrs[i]) == len && memcmp(m->addrs[i], addr, len) == 0)
			return (int)i;
	FO_GROW(m->addrs, m->cap, m->naddrs + 1);
	m->addrs[m->naddrs] = fo_strndup(addr, len);
	return (int)m->naddrs++;
}

int fo_cluster_map_from_slots(struct fo_cluster_map *m, const struct fo_resp_value *reply, const char *fallback_host,
			      struct fo_err *err)
{
	if (reply->type != FO_RESP_ARRAY)
		return fo_err_set(err, FO_EPARSE, "CLUSTER SLOTS did not answer with an array");
	for (size_t i = 0; i < reply->n; i++) {
		const struct fo_resp_value *r = &reply->elems[i];
		if (r->type != FO_RESP_ARRAY || r->n < 3 || r->elems[0].type != FO_RESP_INTEGER ||
		    r->elems[1].type != FO_RESP_INTEGER || r->elems[2].type != FO_RESP_ARRAY || r->elems[2].n < 2)
			return fo_err_set(err, FO_EPARSE,
					  "CLUSTER SLOTS range %zu is not [start, end, [host, port...]...]", i);
		int64_t lo = r->elems[0].integer, hi = r->elems[1].integer;
		const struct fo_resp_value *node = &r->elems[2];
		const struct fo_resp_value *host = &node->elems[0], *port = &node->elems[1];
		if (lo < 0 || hi >= FO_CLUSTER_SLOTS || lo > hi || port->type != FO_RESP_INTEGER ||
		    (host->type != FO_RESP_BULK && host->type != FO_RESP_STATUS))
			return fo_err_set(err, FO_EPARSE, "CLUSTER SLOTS range %zu is malformed", i);
		char addr[300];
		const char *h = host->len && strcmp(host->str, "?") != 0 ? host->str : fallback_host;
		bool v6 = strchr(h, ':') != NULL;
		snprintf(addr, sizeof(addr), "%s%s%s:%lld", v6 ? "[" : "", h, v6 ? "]" : "", (long long)port->integer);
		int idx = fo_cluster_map_addr(m, addr, strlen(addr));
		for (int64_t s = lo; s <= hi; s++)
			m->owner[s] = idx;
	}
	return 0;
}

size_t fo_cluster_map_unserved(const struct fo_cluster_map *m)
{
	size_t n = 0;
	for (size_t i = 0; i < FO_CLUSTER_SLOTS; i++)
		n += m->owner[i] < 0;
	return n;
}

bool fo_cluster_parse_redirect(const char *msg, size_t len, struct fo_cluster_redirect *out)
{
	size_t i;
	if (len > 6 && memcmp(msg, "MOVED ", 6) == 0) {
		out->ask = false;
		i = 6;
	} else if (len > 4 && memcmp(msg, "ASK ", 4) == 0) {
		out->ask = true;
		i = 4;
	} else {
		return false;
	}
	unsigned slot = 0;
	size_t start = i;
	while (i < len && msg[i] >= '0' && msg[i] <= '9' && slot < FO_CLUSTER_SLOTS)
		slot = slot * 10 + (unsigned)(msg[i++] - '0');
	if (i == start || i >= len || msg[i] != ' ' || slot >= FO_CLUSTER_SLOTS)
		return false;
	i++;
	size_t end = i;
	while (end < len && msg[end] != ' ' && msg[end] != '\r' && msg[end] != '\n')
		end++;
	if (end == i)
		return false;
	out->slot = slot;
	out->addr = msg + i;
	out->addr_len = end - i;
	return true;
}

int fo_hostport_split(const char *s, size_t len, char *host, size_t hostcap, int *port)
{
	const char *colon = NULL;
	for (size_t i = len; i > 0; i--)
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	if (!colon || colon == s || colon + 1 == s + len)
		return FO_EINVAL;
	const char *h = s;
	size_t hl = (size_t)(colon - s);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostcap)
		return FO_EINVAL;
	long p = 0;
	for (const char *c = colon + 1; c < s + len; c++) {
		if (*c < '0' || *c > '9' || p > 65535)
			return FO_EINVAL;
		p = p * 10 + (*c - '0');
	}
	if (p < 1 || p > 65535)
		return FO_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}
