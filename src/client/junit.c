/*
 * junit.c: the JUnit XML report of a run (junit.h). Times come from the run's startedAt
 * and finishedAt (ISO-8601 UTC); verdicts from results.checkers; notes go to system-out.
 */
#include "util/common.h"

#include <time.h>

#include "client/junit.h"
#include "util/buf.h"
#include "util/err.h"

void fo_junit_escape(struct fo_buf *out, const char *s, int attribute)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '&': fo_buf_adds(out, "&amp;"); break;
		case '<': fo_buf_adds(out, "&lt;"); break;
		case '>': fo_buf_adds(out, "&gt;"); break;
		case '"': fo_buf_adds(out, "&quot;"); break;
		case '\'': fo_buf_adds(out, "&apos;"); break;
		case '\n': fo_buf_adds(out, attribute ? "&#10;" : "\n"); break;
		case '\r': fo_buf_adds(out, "&#13;"); break;
		case '\t': fo_buf_adds(out, attribute ? "&#9;" : "\t"); break;
		default:
			/* XML 1.0 has no place for other control characters, even escaped. */
			fo_buf_addch(out, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
		}
	}
}

double fo_junit_parse_time(const char *s)
{
	int y, mo, d, h, mi;
	double sec;
	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%lf", &y, &mo, &d, &h, &mi, &sec) != 6)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
	time_t t = timegm(&tm);
	return t == (time_t)-1 ? -1 : (double)t + sec;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void property(struct fo_buf *out, const char *name, const char *value)
{
	fo_buf_addf(out, "      <property name=\"%s\" value=\"", name);
	fo_junit_escape(out, value, 1);
	fo_buf_adds(out, "\"/>\n");
}

int fo_junit_write(const json_t *run, const char *server, struct fo_buf *out)
{
	if (!json_is_object(run))
		return FO_EINVAL;
	const char *test = str(run, "testName");
	const char *state = str(run, "state");
	const char *started = json_string_value(json_object_get(run, "startedAt"));
	double t0 = fo_junit_parse_time(started);
	double t1 = fo_junit_parse_time(json_string_value(json_object_get(run, "finishedAt")));
	double secs = t0 >= 0 && t1 >= t0 ? t1 - t0 : 0;
	const json_t *results = json_object_get(run, "results");
	const json_t *checkers = json_object_get(results, "checkers");
	const json_t *notes = json_object_get(results, "notes");
	size_t nchecks = json_is_array(checkers) ? json_array_size(checkers) : 0;
	bool passed = strcmp(state, "PASSED") == 0;
	size_t failures = passed ? 0 : 1;
	for (size_t i = 0; i < nchecks; i++)
		if (!json_is_true(json_object_get(json_array_get(checkers, i), "passed")))
			failures++;
	size_t tests = nchecks + 1;

	fo_buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fo_buf_addf(out, "<testsuites name=\"fallout\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n",
		    tests, failures, secs);
	fo_buf_adds(out, "  <testsuite name=\"");
	fo_junit_escape(out, test, 1);
	fo_buf_addf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\"", tests, failures,
		    secs);
	if (started && strlen(started) >= 19) {
		/* JUnit's timestamp has no zone and no fraction. */
		char ts[20];
		memcpy(ts, started, 19);
		ts[19] = '\0';
		fo_buf_adds(out, " timestamp=\"");
		fo_junit_escape(out, ts, 1);
		fo_buf_adds(out, "\"");
	}
	fo_buf_adds(out, ">\n    <properties>\n");
	property(out, "runId", str(run, "testRunId"));
	if (server)
		property(out, "server", server);
	property(out, "owner", str(run, "owner"));
	property(out, "state", state);
	fo_buf_adds(out, "    </properties>\n");

	/* The run as a whole. */
	fo_buf_adds(out, "    <testcase classname=\"");
	fo_junit_escape(out, test, 1);
	fo_buf_addf(out, "\" name=\"run\" time=\"%.3f\"", secs);
	if (passed) {
		fo_buf_adds(out, "/>\n");
	} else {
		const char *during = str(run, "failedDuring");
		const char *reason = str(run, "failureReason");
		struct fo_buf msg = FO_BUF_INIT;
		if (*during)
			fo_buf_addf(&msg, "failed during %s", during);
		else
			fo_buf_addf(&msg, "the run ended %s", *state ? state : "without a state");
		if (*reason)
			fo_buf_addf(&msg, ": %s", reason);
		fo_buf_adds(out, ">\n      <failure message=\"");
		fo_junit_escape(out, msg.s, 1);
		fo_buf_adds(out, "\" type=\"");
		fo_junit_escape(out, *state ? state : "UNKNOWN", 1);
		fo_buf_adds(out, "\">");
		fo_junit_escape(out, msg.s, 0);
		fo_buf_adds(out, "</failure>\n    </testcase>\n");
		fo_buf_release(&msg);
	}

	/* One test case per checker verdict. */
	for (size_t i = 0; i < nchecks; i++) {
		const json_t *v = json_array_get(checkers, i);
		const char *kind = str(v, "kind");
		const char *message = str(v, "message");
		fo_buf_adds(out, "    <testcase classname=\"");
		fo_junit_escape(out, test, 1);
		fo_buf_addch(out, '.');
		fo_junit_escape(out, *kind ? kind : "checker", 1);
		fo_buf_adds(out, "\" name=\"");
		fo_junit_escape(out, str(v, "alias"), 1);
		if (*str(v, "checker")) {
			fo_buf_adds(out, " (");
			fo_junit_escape(out, str(v, "checker"), 1);
			fo_buf_adds(out, ")");
		}
		fo_buf_adds(out, "\" time=\"0\"");
		if (json_is_true(json_object_get(v, "passed"))) {
			if (*message) {
				fo_buf_adds(out, ">\n      <system-out>");
				fo_junit_escape(out, message, 0);
				fo_buf_adds(out, "</system-out>\n    </testcase>\n");
			} else {
				fo_buf_adds(out, "/>\n");
			}
			continue;
		}
		fo_buf_adds(out, ">\n      <failure message=\"");
		fo_junit_escape(out, *message ? message : "failed", 1);
		fo_buf_adds(out, "\" type=\"");
		fo_junit_escape(out, *kind ? kind : "checker", 1);
		fo_buf_adds(out, "\">");
		fo_junit_escape(out, message, 0);
		fo_buf_adds(out, "</failure>\n    </testcase>\n");
	}

	if (json_is_array(notes) && json_array_size(notes) > 0) {
		fo_buf_adds(out, "    <system-out>");
		for (size_t i = 0; i < json_array_size(notes); i++) {
			const json_t *n = json_array_get(notes, i);
			fo_junit_escape(out, json_is_string(n) ? json_string_value(n) : str(n, "message"), 0);
			fo_buf_addch(out, '\n');
		}
		fo_buf_adds(out, "</system-out>\n");
	}
	fo_buf_adds(out, "  </testsuite>\n</testsuites>\n");
	return 0;
}
