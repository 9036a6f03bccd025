/*
 * cluster.h: Redis Cluster routing: the slot of a key (CRC16 of the key, or of its hash
 * tag, modulo 16384), the map of which node serves each slot (read from CLUSTER SLOTS),
 * and the redirections a node answers with when it does not serve a key's slot (MOVED:
 * the slot has moved for good, update the map; ASK: ask that node once, after ASKING).
 *
 * A map belongs to one thread; copy it for another (fo_cluster_map_copy).
 */
#ifndef FO_CLUSTER_H
#define FO_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fo_err;
struct fo_resp_value;

#define FO_CLUSTER_SLOTS 16384

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), as Redis Cluster uses. */
uint16_t fo_crc16(const void *data, size_t len);
/*
 * The slot of a key: CRC16 of the key modulo 16384, where a key holding a `{...}` with at
 * least one byte between its first `{` and the next `}` hashes only those bytes (its hash
 * tag), so {user1000}.following and {user1000}.followers share a slot.
 */
unsigned fo_cluster_keyslot(const void *key, size_t len);

/* Which node serves each slot. */
struct fo_cluster_map {
	char **addrs;        /* the nodes, "host:port" (owned) */
	size_t naddrs, cap;
	int32_t owner[FO_CLUSTER_SLOTS]; /* index into addrs; -1: no node serves the slot */
};

void fo_cluster_map_init(struct fo_cluster_map *m);
void fo_cluster_map_release(struct fo_cluster_map *m);
/* Makes dst (initialised or released) a copy of src. */
void fo_cluster_map_copy(struct fo_cluster_map *dst, const struct fo_cluster_map *src);
/* The index of address addr[0..len) ("host:port"), added when new. */
int fo_cluster_map_addr(struct fo_cluster_map *m, const char *addr, size_t len);
/*
 * Fills m (initialised) from a CLUSTER SLOTS reply: each range of slots goes to its master
 * (the first node listed). A node listed with an empty address is at fallback_host (the
 * host the reply came from). Returns 0, or FO_EPARSE with the reason in err when the reply
 * is not one. Slots no range covers stay -1.
 */
int fo_cluster_map_from_slots(struct fo_cluster_map *m, const struct fo_resp_value *reply, const char *fallback_host,
			      struct fo_err *err);
/* How many slots have no node. */
size_t fo_cluster_map_unserved(const struct fo_cluster_map *m);

/* A redirection, parsed from an error reply "MOVED 3999 127.0.0.1:6381" or "ASK ...". */
struct fo_cluster_redirect {
	bool ask;            /* ASK (once) rather than MOVED (for good) */
	unsigned slot;
	const char *addr;    /* points into the message */
	size_t addr_len;
};
/* True when msg[0..len) (an error reply's text) is a MOVED or ASK redirection. */
bool fo_cluster_parse_redirect(const char *msg, size_t len, struct fo_cluster_redirect *out);

/*
 * Splits "host:port" (the port after the last ':'; "[::1]:6379" for IPv6) into host (at
 * most hostcap bytes with the NUL) and *port. Returns 0 or FO_EINVAL.
 */
int fo_hostport_split(const char *s, size_t len, char *host, size_t hostcap, int *port);

#endif
