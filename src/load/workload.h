/*
 * workload.h: what the load driver asks, independent of the protocol that carries it: the
 * command mix (weighted commands compiled from templates such as `SET __key__ __value__`),
 * the key space and how keys are drawn from it (uniform, zipfian, sequential), values, and
 * the small fast random number generator every client owns.
 */
#ifndef FO_LOAD_WORKLOAD_H
#define FO_LOAD_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fo_buf;
struct fo_err;

/* ---- random numbers: xoshiro256**, seeded through splitmix64 ---- */

struct fo_rng {
	uint64_t s[4];
};

void fo_rng_seed(struct fo_rng *r, uint64_t seed);
uint64_t fo_rng_next(struct fo_rng *r);
/* Uniform in [0, 1). */
double fo_rng_double(struct fo_rng *r);
/* Uniform in [0, n), n > 0 (Lemire's multiply-shift without rejection: the bias is
 * at most n / 2^64, negligible for any key space). */
uint64_t fo_rng_below(struct fo_rng *r, uint64_t n);

/* ---- key distributions ---- */

enum fo_load_dist { FO_DIST_UNIFORM, FO_DIST_ZIPFIAN, FO_DIST_SEQUENTIAL };

/* Zipfian ranks over [0, n) with exponent theta (0 < theta < 1): rank 0 is the most
 * frequent (Gray et al., "Quickly generating billion-record synthetic databases", as YCSB). */
struct fo_zipf {
	uint64_t n;
	double theta, alpha, zetan, eta, half_pow_theta;
};
/* Precomputes the constants (exact zeta up to 10 million keys, Euler-Maclaurin beyond). */
void fo_zipf_init(struct fo_zipf *z, uint64_t n, double theta);
/* The rank for a uniform u in [0, 1). */
uint64_t fo_zipf_sample(const struct fo_zipf *z, double u);

/* Writes prefix and the decimal key number into out (at least 24 + strlen(prefix) bytes).
 * Returns the length. */
size_t fo_load_key(char *out, const char *prefix, size_t prefix_len, uint64_t k);

/* ---- commands ---- */

/* What a command does to its key, for verification. */
enum fo_load_cmd_kind {
	FO_CMD_READ,  /* returns the value a WRITE stored (GET) */
	FO_CMD_WRITE, /* stores the value (SET) */
	FO_CMD_OTHER  /* anything else; a keyed one spoils verification of its key */
};

/* One argument of a command template. */
enum fo_load_arg_kind { FO_ARG_LITERAL, FO_ARG_KEY, FO_ARG_VALUE, FO_ARG_MIXED };
struct fo_load_arg {
	enum fo_load_arg_kind kind;
	char *text;          /* owned; the template text (MIXED: with __key__/__value__ inside) */
	size_t len;
};

/* One command of the mix. */
struct fo_load_cmd {
	char name[32];       /* its tag in logs and figures: "get", "set", "hset" */
	double weight;       /* relative share */
	enum fo_load_cmd_kind kind;
	struct fo_load_arg *args; /* owned */
	size_t nargs;
	int key_arg;         /* the argument that routes it (holds __key__), -1: none */
};

/* The mix: commands and their cumulative weights. */
struct fo_load_mix {
	struct fo_load_cmd *cmds; /* owned */
	size_t n;
	double *cum;         /* cum[i] = sum of weights 0..i, normalised so cum[n-1] = 1 */
};

/*
 * Builds the mix from `ratio` ("9:1": the weights of get and set; NULL: none) and extra
 * commands: names[i] with weights[i] (0 drops a command). A name is a built-in (get, set,
 * del, incr, exists, ping, hset, hget) or a command line template whose arguments may
 * hold __key__ and __value__ ("HSET __key__ f __value__"). A name given twice keeps the
 * last weight. Returns 0, or FO_EINVAL naming what is wrong (an unknown word, a ratio
 * that is not N:M, no command with a weight).
 */
int fo_load_mix_build(struct fo_load_mix *m, const char *ratio, const char *const *names, const double *weights,
		      size_t n, struct fo_err *err);
void fo_load_mix_release(struct fo_load_mix *m);
/* Picks a command for a uniform u in [0, 1). */
size_t fo_load_mix_pick(const struct fo_load_mix *m, double u);
/* The names of the built-in commands, NULL-terminated. */
extern const char *const fo_load_builtin_cmds[];

/*
 * Appends to out the routing key of c for key (the key argument with __key__ replaced).
 * Returns false when c has no key.
 */
bool fo_load_cmd_route_key(const struct fo_load_cmd *c, const char *key, size_t klen, struct fo_buf *out);
/* The length of argument a once __key__ and __value__ are replaced. */
size_t fo_load_arg_len(const struct fo_load_arg *a, size_t klen, size_t vlen);
/* Appends argument a with __key__ and __value__ replaced. */
void fo_load_arg_add(struct fo_buf *out, const struct fo_load_arg *a, const char *key, size_t klen, const char *val,
		     size_t vlen);

/* ---- values ---- */

/*
 * Writes the value a verifying client stores as `version` of key number k: "k<k>v<version>|"
 * then 'x' up to size bytes (cut at size when the header is longer). out holds size bytes.
 */
void fo_load_value(char *out, size_t size, uint64_t k, uint32_t version);

#endif
