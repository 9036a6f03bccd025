/*
 * api.h: the REST API's handlers (one file per area: api_misc.c, api_account.c,
 * api_tests.c, api_runs.c, api_artifacts.c, api_admin.c) and the helpers they share
 * (api_common.c). The route table in routes.c maps paths to them. Paths and JSON shapes
 * follow FALLOUT-FORMAT.md 6, so Fallout users' scripts keep working.
 *
 * Conventions: errors are JSON {"message": "..."} (400 with "errors": [{"line", "col",
 * "message"}] for an invalid definition); 401 not signed in; 403 signed in but not allowed
 * (only the owner or an admin may change a test or run); 404 no such thing; 409 exists;
 * 413 too large; 429 too many sign-in attempts. Times in JSON are ISO-8601 UTC strings
 * ("2026-11-30T10:07:40.303Z") or null.
 */
#ifndef FO_SERVER_API_H
#define FO_SERVER_API_H

#include <stdbool.h>

#include "server/http.h"
#include "server/store.h"

/* ---- shared helpers (api_common.c) ---- */

/* True when rq's user may change things owned by owner (the owner, or an admin). */
bool fo_api_may_change(const struct fo_req *rq, const char *owner);
/* The owner named by the route: the {email} parameter, or the signed-in user's email. */
const char *fo_api_owner(const struct fo_req *rq);
/* Appends an ISO-8601 UTC time as a JSON string, or null for 0. */
void fo_api_add_time(struct fo_buf *b, int64_t ms);
/* Appends a test as Fallout's Test JSON {owner, name, testId, createdAt, lastRunAt,
 * definition, tags, sizeOnDiskBytes, version, deleted}; without the definition when !full. */
void fo_api_test_json(struct fo_buf *b, const struct fo_test_rec *t, bool full);
/* Appends a run as Fallout's TestRun JSON {owner, testName, testRunId, createdAt, startedAt,
 * finishedAt, state, failedDuring, failureReason, definition (shown with its parameters,
 * FALLOUT-FORMAT.md 1.1), results, artifacts, templateParams, keepForever, links}; without
 * definition and artifacts when !full (listings). */
void fo_api_run_json(struct fo_req *rq, struct fo_buf *b, const struct fo_run_rec *r, bool full);
/*
 * The definition as shown for a run: "# PARAMETERS FOR TEST RUN <owner>, <test>, <id>:",
 * the parameters as YAML, "# DEFAULT PARAMETERS:" with each old default line commented out,
 * "---", the definition. Arena-owned.
 */
const char *fo_api_run_definition_text(struct fo_arena *a, const struct fo_run_rec *r);
/*
 * Loads the run named by the route ({email}, {name}, {run}; or only {run}) into out.
 * Returns 0, or sets a 404 response and returns -1.
 */
int fo_api_load_run(struct fo_req *rq, struct fo_run_rec *out);
/* Loads the test named by the route ({email} or the user, {name}); 404 and -1 when absent. */
int fo_api_load_test(struct fo_req *rq, struct fo_test_rec *out);
/* Sets a 400 response listing every diagnostic in d (as {"message", "errors": [...]}). */
struct fo_diags;
void fo_api_diags_response(struct fo_req *rq, const char *message, const struct fo_diags *d);

/* ---- handlers ---- */
/* api_misc.c */
int fo_api_health(struct fo_req *rq);
int fo_api_version(struct fo_req *rq);
int fo_api_openapi(struct fo_req *rq);
int fo_api_running_count(struct fo_req *rq);
int fo_api_components(struct fo_req *rq);
int fo_api_component(struct fo_req *rq);
/* api_account.c */
int fo_api_login(struct fo_req *rq);
int fo_api_logout(struct fo_req *rq);
int fo_api_register(struct fo_req *rq);
int fo_api_whoami(struct fo_req *rq);
int fo_api_user_create(struct fo_req *rq);
int fo_api_user_list(struct fo_req *rq);
int fo_api_token_create(struct fo_req *rq);
int fo_api_token_list(struct fo_req *rq);
int fo_api_token_delete(struct fo_req *rq);
int fo_api_secret_list(struct fo_req *rq);
int fo_api_secret_put(struct fo_req *rq);
int fo_api_secret_delete(struct fo_req *rq);
/* api_tests.c */
int fo_api_test_validate(struct fo_req *rq);
int fo_api_test_list_mine(struct fo_req *rq);
int fo_api_test_list_deleted(struct fo_req *rq);
int fo_api_test_list_owner(struct fo_req *rq);
int fo_api_test_get(struct fo_req *rq);
int fo_api_test_yaml(struct fo_req *rq);
int fo_api_test_create(struct fo_req *rq);
int fo_api_test_replace(struct fo_req *rq);
int fo_api_test_delete(struct fo_req *rq);
int fo_api_test_restore(struct fo_req *rq);
int fo_api_test_clone(struct fo_req *rq);
int fo_api_test_versions(struct fo_req *rq);
int fo_api_test_version(struct fo_req *rq);
int fo_api_test_tags(struct fo_req *rq);
/* api_runs.c */
int fo_api_run_start(struct fo_req *rq);
int fo_api_run_list_test(struct fo_req *rq);
int fo_api_run_list_all(struct fo_req *rq);
int fo_api_run_get(struct fo_req *rq);
int fo_api_run_definition(struct fo_req *rq);
int fo_api_run_abort(struct fo_req *rq);
int fo_api_run_rerun(struct fo_req *rq);
int fo_api_run_keep(struct fo_req *rq);
int fo_api_run_delete(struct fo_req *rq);
/* api_artifacts.c */
int fo_api_artifact_list(struct fo_req *rq);
int fo_api_artifact_get(struct fo_req *rq);
int fo_api_artifact_zip(struct fo_req *rq);
int fo_api_artifact_live(struct fo_req *rq);
int fo_api_performance(struct fo_req *rq);
int fo_api_performance_get(struct fo_req *rq);
/* api_admin.c */
int fo_api_queue_status(struct fo_req *rq);
int fo_api_queue_pause(struct fo_req *rq);
int fo_api_queue_resume(struct fo_req *rq);
int fo_api_queue_drain(struct fo_req *rq);
int fo_api_housekeep(struct fo_req *rq);

#endif
