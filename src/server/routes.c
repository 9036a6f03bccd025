/*
 * routes.c: the REST API's route table: method, path pattern, handler, who may call it, and
 * a summary. It drives dispatch (http.c) and the OpenAPI description served at
 * /openapi.json, so the API's documentation cannot drift from the code. Order matters: the
 * first match wins, so literal segments come before parameters ("/tests/validate/api"
 * before "/tests/{name}/api").
 */
#include "util/common.h"

#include "server/api.h"

#define JSON "application/json"
#define YAML "application/x-yaml"
#define FORM "application/x-www-form-urlencoded"

const struct fo_route fo_routes[] = {
	/* the server */
	{"GET", "/health", fo_api_health, FO_AUTH_NONE, "liveness: {\"status\": \"ok\"}", NULL, JSON},
	{"GET", "/version/api", fo_api_version, FO_AUTH_USER, "the server's version", NULL, JSON},
	{"GET", "/openapi.json", fo_api_openapi, FO_AUTH_USER, "this description of the API (OpenAPI 3.0)", NULL, JSON},
	{"GET", "/status/runningTestsCount", fo_api_running_count, FO_AUTH_USER, "how many runs are running now", NULL, JSON},
	{"GET", "/components/api", fo_api_components, FO_AUTH_USER, "every component, by kind", NULL, JSON},
	{"GET", "/components/{kind}/{component}", fo_api_component, FO_AUTH_USER,
	 "one component: description and properties", NULL, JSON},

	/* accounts */
	{"POST", "/account/login", fo_api_login, FO_AUTH_NONE,
	 "sign in with form fields email and password: sets the session cookie, returns the CSRF token", FORM, JSON},
	{"POST", "/account/logout", fo_api_logout, FO_AUTH_USER, "sign out (ends the session)", NULL, JSON},
	{"POST", "/account/register", fo_api_register, FO_AUTH_NONE,
	 "create an account {name, email, password} (when the server allows registration)", JSON, JSON},
	{"GET", "/account/api", fo_api_whoami, FO_AUTH_USER, "the signed-in user", NULL, JSON},
	{"GET", "/account/users/api", fo_api_user_list, FO_AUTH_ADMIN, "every user", NULL, JSON},
	{"POST", "/account/users/api", fo_api_user_create, FO_AUTH_ADMIN, "create a user {name, email, password, admin}",
	 JSON, JSON},
	{"GET", "/account/tokens/api", fo_api_token_list, FO_AUTH_USER, "the user's API tokens (never their values)",
	 NULL, JSON},
	{"POST", "/account/tokens/api", fo_api_token_create, FO_AUTH_USER,
	 "create an API token {label}: its value is shown once", JSON, JSON},
	{"DELETE", "/account/tokens/{id}/api", fo_api_token_delete, FO_AUTH_USER, "revoke an API token", NULL, JSON},
	{"GET", "/account/secrets/api", fo_api_secret_list, FO_AUTH_USER, "the names of the user's secrets", NULL, JSON},
	{"PUT", "/account/secrets/{secret}/api", fo_api_secret_put, FO_AUTH_USER,
	 "set a secret {value}, used in definitions as <<secret:NAME>>", JSON, JSON},
	{"DELETE", "/account/secrets/{secret}/api", fo_api_secret_delete, FO_AUTH_USER, "delete a secret", NULL, JSON},

	/* tests */
	{"POST", "/tests/validate/api", fo_api_test_validate, FO_AUTH_USER,
	 "check a definition: 200, or 400 with every error and its line", YAML, JSON},
	{"GET", "/tests/api", fo_api_test_list_mine, FO_AUTH_USER, "the signed-in user's tests", NULL, JSON},
	{"GET", "/tests/deleted/api", fo_api_test_list_deleted, FO_AUTH_USER, "the user's deleted (restorable) tests",
	 NULL, JSON},
	{"GET", "/tests/runs/{run}/api", fo_api_run_get, FO_AUTH_USER, "a run, by its id alone", NULL, JSON},
	{"GET", "/runs/api", fo_api_run_list_all, FO_AUTH_USER,
	 "runs of every test, newest first (?owner=&state=&limit=&offset=)", NULL, JSON},
	{"GET", "/tests/{email}/api", fo_api_test_list_owner, FO_AUTH_USER, "a user's tests", NULL, JSON},
	{"GET", "/tests/{name}/api", fo_api_test_get, FO_AUTH_USER, "the signed-in user's test", NULL, JSON},
	{"POST", "/tests/{name}/api", fo_api_test_create, FO_AUTH_USER,
	 "create a test from its YAML: 201, 409 when it exists, 400 when invalid", YAML, JSON},
	{"PUT", "/tests/{name}/api", fo_api_test_replace, FO_AUTH_USER,
	 "replace a test's definition (the old one is kept as a version)", YAML, JSON},
	{"DELETE", "/tests/{name}/api", fo_api_test_delete, FO_AUTH_USER,
	 "delete a test (restorable; ?deleteforever=true removes it and its runs)", NULL, JSON},
	{"POST", "/tests/{name}/restore/api", fo_api_test_restore, FO_AUTH_USER, "restore a deleted test", NULL, JSON},
	{"POST", "/tests/{name}/runs/api", fo_api_run_start, FO_AUTH_USER,
	 "queue a run {jsonTemplateParams | yamlTemplateParams}: 201 and Location", JSON, JSON},
	{"GET", "/tests/{email}/{name}/api", fo_api_test_get, FO_AUTH_USER, "a test", NULL, JSON},
	{"PUT", "/tests/{email}/{name}/api", fo_api_test_replace, FO_AUTH_USER,
	 "replace a test's definition (owner or admin)", YAML, JSON},
	{"DELETE", "/tests/{email}/{name}/api", fo_api_test_delete, FO_AUTH_USER, "delete a test (owner or admin)", NULL,
	 JSON},
	{"POST", "/tests/{email}/{name}/restore/api", fo_api_test_restore, FO_AUTH_USER,
	 "restore a deleted test (owner or admin)", NULL, JSON},
	{"POST", "/tests/{email}/{name}/clone/api", fo_api_test_clone, FO_AUTH_USER,
	 "copy a test into the signed-in user's tests {name}", JSON, JSON},
	{"GET", "/tests/{email}/{name}/versions/api", fo_api_test_versions, FO_AUTH_USER,
	 "every version of a test's definition, newest first", NULL, JSON},
	{"GET", "/tests/{email}/{name}/versions/{version}/api", fo_api_test_version, FO_AUTH_USER,
	 "one version of a test's definition", NULL, JSON},
	{"PUT", "/tests/{email}/{name}/tags/api", fo_api_test_tags, FO_AUTH_USER, "set a test's tags [\"a\", \"b\"]",
	 JSON, JSON},
	{"POST", "/tests/{email}/{name}/runs/api", fo_api_run_start, FO_AUTH_USER, "queue a run (owner or admin)", JSON,
	 JSON},
	{"GET", "/tests/{email}/{name}/runs/api", fo_api_run_list_test, FO_AUTH_USER,
	 "a test's runs, newest first (?state=&limit=&offset=)", NULL, JSON},
	{"GET", "/tests/{email}/{name}/runs/{run}/api", fo_api_run_get, FO_AUTH_USER, "a run", NULL, JSON},
	{"DELETE", "/tests/{email}/{name}/runs/{run}/api", fo_api_run_delete, FO_AUTH_USER,
	 "delete a finished run and its artifacts", NULL, JSON},
	{"GET", "/tests/{email}/{name}/runs/{run}/definition", fo_api_run_definition, FO_AUTH_USER,
	 "the run's definition with its parameters, as YAML that can be run again", NULL, YAML},
	{"POST", "/tests/{email}/{name}/runs/{run}/abort/api", fo_api_run_abort, FO_AUTH_USER,
	 "abort a run: 200, or 304 when it has finished", NULL, JSON},
	{"POST", "/tests/{email}/{name}/runs/{run}/rerun/api", fo_api_run_rerun, FO_AUTH_USER,
	 "queue the run again {clone: true: its own definition; false: the test's current one}", JSON, JSON},
	{"POST", "/tests/{email}/{name}/runs/{run}/setKeepForever/api", fo_api_run_keep, FO_AUTH_USER,
	 "keep a run for ever (?keepForever=false undoes it)", NULL, JSON},
	{"GET", "/tests/{email}/{name}/{file}", fo_api_test_yaml, FO_AUTH_USER, "a test's definition as YAML (NAME.yaml)",
	 NULL, YAML},

	/* artifacts */
	{"GET", "/tests/{email}/{name}/runs/{run}/artifacts/api", fo_api_artifact_list, FO_AUTH_USER,
	 "a run's artifacts {path: bytes}", NULL, JSON},
	{"GET", "/tests/ui/{email}/{name}/{run}/artifactsArchive", fo_api_artifact_zip, FO_AUTH_USER,
	 "every artifact of a run, as a zip", NULL, "application/zip"},
	{"GET", "/tests/ui/{email}/{name}/{run}/artifacts/{path*}", fo_api_artifact_get, FO_AUTH_USER, "one artifact",
	 NULL, "application/octet-stream"},
	{"GET", "/live/artifacts/{email}/{name}/{run}/{path*}", fo_api_artifact_live, FO_AUTH_USER,
	 "follow an artifact as server-sent events (updated, finished; heartbeat every 10 s)", NULL,
	 "text/event-stream"},
	{"POST", "/performance/run/api", fo_api_performance, FO_AUTH_USER,
	 "build a comparison report {reportName, reportTests: {test: [runIds]}}", JSON, JSON},
	{"GET", "/performance/reports/{report}", fo_api_performance_get, FO_AUTH_USER,
	 "a comparison report built by /performance/run/api (HTML)", NULL, "text/html"},

	/* administration */
	{"GET", "/admin/queue/api", fo_api_queue_status, FO_AUTH_ADMIN, "the queue: paused, running, queued, limits",
	 NULL, JSON},
	{"POST", "/admin/queue/pause/api", fo_api_queue_pause, FO_AUTH_ADMIN,
	 "pause the queue (runs in progress go on; drain before an upgrade)", NULL, JSON},
	{"POST", "/admin/queue/resume/api", fo_api_queue_resume, FO_AUTH_ADMIN, "resume the queue", NULL, JSON},
	{"POST", "/admin/queue/drain/api", fo_api_queue_drain, FO_AUTH_ADMIN,
	 "pause the queue and wait (?timeout=SECONDS) until no run is running: 200 drained, 503 not yet", NULL, JSON},
	{"POST", "/admin/housekeeping/api", fo_api_housekeep, FO_AUTH_ADMIN,
	 "compress old artifacts and reap expired runs now", NULL, JSON},
};

const size_t fo_nroutes = sizeof(fo_routes) / sizeof(fo_routes[0]);
