/*
 * log.h: a run's logs, in Fallout's layout. One logger per run writes
 * fallout-shared.log (INFO and up), fallout-warnings.log (WARN and up) and
 * fallout-errors.log (ERROR only) in the run folder; each node group and each node has a
 * logger of its own (fallout-nodegroup.log, fallout-node.log) whose lines also go to the
 * run's files, prefixed with the group or node. Thread-safe. Lines look like
 *   2026-11-30T07:40:00.123Z INFO  [server/node0] started redis
 * Secrets registered with fo_log_redact are replaced by <redacted> in every line.
 */
#ifndef FO_LOG_H
#define FO_LOG_H

#include <stdarg.h>

struct fo_err;

enum fo_level { FO_DEBUG, FO_INFO, FO_WARN, FO_ERROR };

struct fo_log;

/* Opens the run logger writing the three files in dir. Returns NULL with err set. */
struct fo_log *fo_log_open_run(const char *dir, struct fo_err *err);
/* Opens a child logger writing to path (fallout-nodegroup.log, fallout-node.log), whose lines
 * also reach parent (the run's logger, or a group's) with `[name]` in front. */
struct fo_log *fo_log_open_child(struct fo_log *parent, const char *path, const char *name, struct fo_err *err);
/* Closes and frees (children before their parent). NULL is fine. */
void fo_log_close(struct fo_log *log);

void fo_log(struct fo_log *log, enum fo_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fo_vlog(struct fo_log *log, enum fo_level level, const char *fmt, va_list ap);
#define fo_info(log, ...) fo_log((log), FO_INFO, __VA_ARGS__)
#define fo_warn(log, ...) fo_log((log), FO_WARN, __VA_ARGS__)
#define fo_error(log, ...) fo_log((log), FO_ERROR, __VA_ARGS__)

/* The file a logger writes (for commands whose output should be appended to it). */
const char *fo_log_path(const struct fo_log *log);
/* Registers a secret value to be redacted from every line of every logger of the run
 * (once: registering it again does nothing). Copies secret. */
void fo_log_redact(struct fo_log *log, const char *secret);
/* A copy of the secrets registered so far: an owned NULL-terminated array of owned strings
 * in *out (NULL when none; free each and the array with fo_free). Returns how many. */
size_t fo_log_secrets(struct fo_log *log, char ***out);
/* s with the registered secrets replaced by <redacted>, owned (fo_free); NULL when s holds
 * none (then no copy is made). Borrows s. */
char *fo_log_redacted(struct fo_log *log, const char *s);

/* Called for every INFO+ line of the run (after redaction), e.g. to show progress. */
typedef void (*fo_log_listener)(void *ctx, enum fo_level level, const char *line);
void fo_log_listen(struct fo_log *run_log, fo_log_listener fn, void *ctx);

#endif
