/*
 * test_junit.c: the JUnit XML report of a run: the exact shape for a small failed run
 * (a test case for the run and one per checker verdict, properties, times from startedAt
 * and finishedAt), a passed run with nothing failed, and escaping of everything that comes
 * from the run (markup, quotes, line breaks in attributes, control characters).
 */
#include "util/common.h"

#include <setjmp.h>
#include <cmocka.h>

#include "client/junit.h"
#include "util/buf.h"

static const char failed_run[] =
	"{\"owner\": \"ann@example.com\", \"testName\": \"kv\", \"testRunId\": \"r-1\", \"state\": \"FAILED\","
	" \"startedAt\": \"2026-11-30T10:07:40.303Z\", \"finishedAt\": \"2026-11-30T10:07:42.803Z\","
	" \"failedDuring\": \"CHECKING_ARTIFACTS\", \"failureReason\": \"1 checker failed\","
	" \"results\": {\"checkers\": ["
	"  {\"alias\": \"ok\", \"checker\": \"nofail\", \"kind\": \"checker\", \"passed\": true, \"message\": \"\"},"
	"  {\"alias\": \"lat\", \"checker\": \"regex\", \"kind\": \"artifact_checker\", \"passed\": false,"
	"   \"message\": \"p99 > 5ms\"}],"
	" \"notes\": [\"one note\"]}}";

static const char failed_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<testsuites name=\"fallout\" tests=\"3\" failures=\"2\" errors=\"0\" time=\"2.500\">\n"
	"  <testsuite name=\"kv\" tests=\"3\" failures=\"2\" errors=\"0\" skipped=\"0\" time=\"2.500\""
	" timestamp=\"2026-11-30T10:07:40\">\n"
	"    <properties>\n"
	"      <property name=\"runId\" value=\"r-1\"/>\n"
	"      <property name=\"server\" value=\"http://127.0.0.1:8080\"/>\n"
	"      <property name=\"owner\" value=\"ann@example.com\"/>\n"
	"      <property name=\"state\" value=\"FAILED\"/>\n"
	"    </properties>\n"
	"    <testcase classname=\"kv\" name=\"run\" time=\"2.500\">\n"
	"      <failure message=\"failed during CHECKING_ARTIFACTS: 1 checker failed\" type=\"FAILED\">"
	"failed during CHECKING_ARTIFACTS: 1 checker failed</failure>\n"
	"    </testcase>\n"
	"    <testcase classname=\"kv.checker\" name=\"ok (nofail)\" time=\"0\"/>\n"
	"    <testcase classname=\"kv.artifact_checker\" name=\"lat (regex)\" time=\"0\">\n"
	"      <failure message=\"p99 &gt; 5ms\" type=\"artifact_checker\">p99 &gt; 5ms</failure>\n"
	"    </testcase>\n"
	"    <system-out>one note\n"
	"</system-out>\n"
	"  </testsuite>\n"
	"</testsuites>\n";

static void test_failed_run_shape(void **state)
{
	json_t *run = json_loads(failed_run, 0, NULL);
	assert_non_null(run);
	struct fo_buf b = FO_BUF_INIT;
	assert_int_equal(fo_junit_write(run, "http://127.0.0.1:8080", &b), 0);
	assert_string_equal(b.s, failed_xml);
	fo_buf_release(&b);
	json_decref(run);
}

static void test_passed_run_has_no_failure(void **state)
{
	json_t *run = json_loads("{\"testName\": \"t\", \"testRunId\": \"r\", \"state\": \"PASSED\","
				 " \"startedAt\": null, \"finishedAt\": null, \"results\": {\"checkers\": []}}",
				 0, NULL);
	struct fo_buf b = FO_BUF_INIT;
	assert_int_equal(fo_junit_write(run, NULL, &b), 0);
	assert_non_null(strstr(b.s, "tests=\"1\" failures=\"0\""));
	assert_non_null(strstr(b.s, "<testcase classname=\"t\" name=\"run\" time=\"0.000\"/>\n"));
	assert_null(strstr(b.s, "<failure"));
	assert_null(strstr(b.s, "name=\"server\""));
	assert_null(strstr(b.s, "timestamp="));
	fo_buf_release(&b);
	json_decref(run);
}

static void test_aborted_run_without_reason(void **state)
{
	json_t *run = json_loads("{\"testName\": \"t\", \"state\": \"ABORTED\"}", 0, NULL);
	struct fo_buf b = FO_BUF_INIT;
	assert_int_equal(fo_junit_write(run, NULL, &b), 0);
	assert_non_null(strstr(b.s, "<failure message=\"the run ended ABORTED\" type=\"ABORTED\">"));
	fo_buf_release(&b);
	json_decref(run);
}

static void test_escaping(void **state)
{
	struct fo_buf b = FO_BUF_INIT;
	fo_junit_escape(&b, "a<b>&\"c\"'d'\n\te\x01", 1);
	assert_string_equal(b.s, "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;&#10;&#9;e?");
	fo_buf_clear(&b);
	fo_junit_escape(&b, "x\ny\r<\x7f", 0);
	assert_string_equal(b.s, "x\ny&#13;&lt;?");
	fo_buf_clear(&b);
	fo_junit_escape(&b, "caf\xc3\xa9", 0);
	assert_string_equal(b.s, "caf\xc3\xa9");
	fo_buf_release(&b);
}

static void test_everything_from_the_run_is_escaped(void **state)
{
	json_t *run = json_loads("{\"testName\": \"a&b\", \"testRunId\": \"<id>\", \"state\": \"FAILED\","
				 " \"failedDuring\": \"RUNNING\", \"failureReason\": \"\\\"quoted\\\"\\nnext\","
				 " \"results\": {\"checkers\": [{\"alias\": \"<x>\", \"checker\": \"c&d\","
				 " \"passed\": false, \"message\": \"]]> & <!--\"}]}}",
				 0, NULL);
	struct fo_buf b = FO_BUF_INIT;
	assert_int_equal(fo_junit_write(run, "http://h/?a=1&b=2", &b), 0);
	assert_non_null(strstr(b.s, "<testsuite name=\"a&amp;b\""));
	assert_non_null(strstr(b.s, "value=\"&lt;id&gt;\""));
	assert_non_null(strstr(b.s, "value=\"http://h/?a=1&amp;b=2\""));
	assert_non_null(strstr(b.s, "message=\"failed during RUNNING: &quot;quoted&quot;&#10;next\""));
	assert_non_null(strstr(b.s, "classname=\"a&amp;b.checker\" name=\"&lt;x&gt; (c&amp;d)\""));
	assert_non_null(strstr(b.s, ">]]&gt; &amp; &lt;!--</failure>"));
	assert_null(strstr(b.s, "<x>"));
	fo_buf_release(&b);
	json_decref(run);
}

static void test_not_an_object(void **state)
{
	json_t *arr = json_array();
	struct fo_buf b = FO_BUF_INIT;
	assert_int_not_equal(fo_junit_write(arr, NULL, &b), 0);
	assert_int_equal(b.len, 0);
	fo_buf_release(&b);
	json_decref(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_run_shape),
		cmocka_unit_test(test_passed_run_has_no_failure),
		cmocka_unit_test(test_aborted_run_without_reason),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_everything_from_the_run_is_escaped),
		cmocka_unit_test(test_not_an_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
