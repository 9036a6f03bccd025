/*
 * test_cluster_slots.c: Redis Cluster routing: CRC16 (XMODEM) and the key slots Redis
 * itself gives (CLUSTER KEYSLOT), hash tags by the rules of the cluster specification,
 * the slot map read from a CLUSTER SLOTS reply, MOVED/ASK parsing and host:port.
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "load/cluster.h"
#include "load/resp.h"
#include "util/err.h"

static unsigned slot(const char *key)
{
	return fo_cluster_keyslot(key, strlen(key));
}

static void test_crc16_check_value(void **state)
{
	/* the standard check value of CRC-16/XMODEM */
	assert_int_equal(fo_crc16("123456789", 9), 0x31c3);
	assert_int_equal(fo_crc16("", 0), 0);
}

/* Slots as `redis-cli CLUSTER KEYSLOT <key>` answers them. */
static void test_known_slots(void **state)
{
	assert_int_equal(slot("foo"), 12182);
	assert_int_equal(slot("bar"), 5061);
	assert_int_equal(slot("hello"), 866);
	assert_int_equal(slot("somekey"), 11058);
	assert_int_equal(slot("foo{hash_tag}"), 2515);
	assert_int_equal(slot("123456789"), 0x31c3);
}

static void test_hash_tags(void **state)
{
	/* keys sharing a tag share a slot: the tag's */
	assert_int_equal(slot("{user1000}.following"), slot("{user1000}.followers"));
	assert_int_equal(slot("{user1000}.following"), slot("user1000"));
	/* only the first { and the first } after it count */
	assert_int_equal(slot("foo{bar}{zap}"), slot("bar"));
	assert_int_equal(slot("foo{{bar}}zap"), slot("{bar"));
	/* an empty tag, or none closed, hashes the whole key */
	assert_int_equal(slot("foo{}{bar}"), fo_crc16("foo{}{bar}", 10) & 16383);
	assert_int_equal(slot("foo{bar"), fo_crc16("foo{bar", 7) & 16383);
	assert_int_equal(slot("}foo{"), fo_crc16("}foo{", 5) & 16383);
	/* slots stay in range */
	for (int i = 0; i < 1000; i++) {
		char k[32];
		snprintf(k, sizeof(k), "kv:%d", i);
		assert_true(slot(k) < FO_CLUSTER_SLOTS);
	}
}

/* A three-master CLUSTER SLOTS reply, a replica listed after one master, and a master
 * listed with an empty address (it does not know its own). */
static const char slots_reply[] =
	"*3\r\n"
	"*3\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.1.1\r\n:6379\r\n$2\r\nid\r\n"
	"*4\r\n:5461\r\n:10922\r\n*2\r\n$9\r\n127.0.1.2\r\n:6379\r\n*2\r\n$9\r\n127.0.1.4\r\n:6379\r\n"
	"*3\r\n:10923\r\n:16383\r\n*2\r\n$0\r\n\r\n:6380\r\n";

static void test_map_from_cluster_slots(void **state)
{
	struct fo_resp_parser p;
	fo_resp_parser_init(&p);
	const struct fo_resp_value *v;
	size_t used;
	assert_int_equal(fo_resp_parse(&p, slots_reply, sizeof(slots_reply) - 1, &used, &v), 1);
	struct fo_cluster_map m;
	fo_cluster_map_init(&m);
	struct fo_err err = {0};
	assert_int_equal(fo_cluster_map_from_slots(&m, v, "10.1.1.1", &err), 0);
	assert_int_equal(m.naddrs, 3);
	assert_string_equal(m.addrs[0], "127.0.1.1:6379");
	assert_string_equal(m.addrs[1], "127.0.1.2:6379");
	assert_string_equal(m.addrs[2], "10.1.1.1:6380");
	assert_int_equal(m.owner[0], 0);
	assert_int_equal(m.owner[5460], 0);
	assert_int_equal(m.owner[5461], 1);
	assert_int_equal(m.owner[10922], 1);
	assert_int_equal(m.owner[16383], 2);
	assert_int_equal(fo_cluster_map_unserved(&m), 0);
	/* "foo" (12182) is the third master's */
	assert_int_equal(m.owner[slot("foo")], 2);

	struct fo_cluster_map copy;
	fo_cluster_map_copy(&copy, &m);
	assert_int_equal(copy.naddrs, 3);
	assert_int_equal(copy.owner[12182], 2);
	assert_int_equal(fo_cluster_map_addr(&copy, "127.0.1.9:6379", 14), 3);
	assert_int_equal(fo_cluster_map_addr(&copy, "127.0.1.2:6379", 14), 1);
	fo_cluster_map_release(&copy);
	fo_cluster_map_release(&m);
	fo_resp_parser_release(&p);
}

static void test_map_refuses_bad_replies(void **state)
{
	const char *bad[] = {"+OK\r\n", "*1\r\n*2\r\n:0\r\n:1\r\n", "*1\r\n*3\r\n:5\r\n:1\r\n*2\r\n$1\r\na\r\n:1\r\n",
			     "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\na\r\n:1\r\n"};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		struct fo_resp_parser p;
		fo_resp_parser_init(&p);
		const struct fo_resp_value *v;
		size_t used;
		assert_int_equal(fo_resp_parse(&p, bad[i], strlen(bad[i]), &used, &v), 1);
		struct fo_cluster_map m;
		fo_cluster_map_init(&m);
		struct fo_err err = {0};
		assert_int_equal(fo_cluster_map_from_slots(&m, v, "h", &err), FO_EPARSE);
		assert_true(err.msg[0] != '\0');
		fo_cluster_map_release(&m);
		fo_resp_parser_release(&p);
	}
	/* a map with a gap says how many slots nobody serves */
	struct fo_cluster_map m;
	fo_cluster_map_init(&m);
	assert_int_equal(fo_cluster_map_unserved(&m), FO_CLUSTER_SLOTS);
	fo_cluster_map_release(&m);
}

static void test_redirects(void **state)
{
	struct fo_cluster_redirect r;
	const char *moved = "MOVED 3999 127.0.0.1:6381";
	assert_true(fo_cluster_parse_redirect(moved, strlen(moved), &r));
	assert_false(r.ask);
	assert_int_equal(r.slot, 3999);
	assert_int_equal(r.addr_len, 14);
	assert_memory_equal(r.addr, "127.0.0.1:6381", 14);
	const char *ask = "ASK 0 [::1]:7000";
	assert_true(fo_cluster_parse_redirect(ask, strlen(ask), &r));
	assert_true(r.ask);
	assert_int_equal(r.slot, 0);
	const char *not[] = {"ERR wrong", "MOVED", "MOVED 16384 h:1", "MOVED x h:1", "MOVED 12 ", "ASKING 1 h:1"};
	for (size_t i = 0; i < FO_ARRAY_LEN(not); i++)
		assert_false(fo_cluster_parse_redirect(not[i], strlen(not[i]), &r));
}

static void test_hostport(void **state)
{
	char host[64];
	int port;
	assert_int_equal(fo_hostport_split("127.0.0.1:6379", 14, host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 6379);
	assert_int_equal(fo_hostport_split("[::1]:7000", 10, host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 7000);
	assert_int_equal(fo_hostport_split("localhost", 9, host, sizeof(host), &port), FO_EINVAL);
	assert_int_equal(fo_hostport_split("h:0", 3, host, sizeof(host), &port), FO_EINVAL);
	assert_int_equal(fo_hostport_split("h:65536", 7, host, sizeof(host), &port), FO_EINVAL);
	assert_int_equal(fo_hostport_split(":6379", 5, host, sizeof(host), &port), FO_EINVAL);
	assert_int_equal(fo_hostport_split("h:63x", 5, host, sizeof(host), &port), FO_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc16_check_value),
		cmocka_unit_test(test_known_slots),
		cmocka_unit_test(test_hash_tags),
		cmocka_unit_test(test_map_from_cluster_slots),
		cmocka_unit_test(test_map_refuses_bad_replies),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_hostport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
