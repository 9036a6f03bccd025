/*
 * junit.h: a run's outcome as a JUnit XML report, the format CI systems (Jenkins, GitLab,
 * GitHub Actions) show as test results. Built from the server's TestRun JSON:
 *
 *   <testsuites>
 *     <testsuite name=TEST tests= failures= time= timestamp=startedAt>
 *       <properties> runId, server, owner, state </properties>
 *       <testcase classname=TEST name="run">           fails unless the run PASSED, with
 *                                                      failedDuring and failureReason
 *       <testcase classname=TEST.checker name="ALIAS (CHECKER)">   one per verdict
 *       <testcase classname=TEST.artifact_checker ...>
 *       <system-out> the run's notes </system-out>
 *
 * Everything from the run is XML-escaped; characters XML 1.0 cannot hold become '?'.
 */
#ifndef FO_CLIENT_JUNIT_H
#define FO_CLIENT_JUNIT_H

#include <jansson.h>

struct fo_buf;

/*
 * Appends the report for run (a TestRun JSON object, borrowed) to out; server (may be
 * NULL) is recorded as a property. Returns 0, or FO_EINVAL when run is not an object.
 */
int fo_junit_write(const json_t *run, const char *server, struct fo_buf *out);

/* Appends s XML-escaped for text or an attribute value (quotes, and in attributes line
 * breaks, as character references). */
void fo_junit_escape(struct fo_buf *out, const char *s, int attribute);

/* Seconds since the epoch of an ISO-8601 UTC time ("2026-11-30T10:07:40.303Z"), or -1
 * when s is NULL or not such a time. */
double fo_junit_parse_time(const char *s);

#endif
