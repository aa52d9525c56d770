/* The C ABI from C: every call, every error path, and many threads on one engine while
 * another swaps it. Built with AddressSanitizer: a leaked string or handle, or a double
 * free, fails the run. Usage: c_abi_test EXAMPLES_DIR */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preflight/preflight.h"

static int failures = 0;
#define EXPECT(cond)                                                       \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);  \
      ++failures;                                                          \
    }                                                                      \
  } while (0)

static char snapshot[4096];
static char *request_body;

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  long n;
  char *text;
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  text = malloc((size_t)n + 1);
  if (text == NULL || fread(text, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    free(text);
    return NULL;
  }
  text[n] = '\0';
  fclose(f);
  return text;
}

/* Runs `call` (which sets the caller's `out`) before looking at `out`. */
#define EXPECT_ERROR(call, status, scim_type) \
  do {                                        \
    int got_ = (call);                        \
    expect_error(got_, status, scim_type, out); \
  } while (0)

/* The call returned `status` and a SCIM Error naming `scim_type` in `out`; frees it. */
static void expect_error(int got, int status, const char *scim_type, char *out) {
  char needle[64];
  EXPECT(got == status);
  if (got != status) fprintf(stderr, "  got status %d, want %d: %s\n", got, status, out ? out : "(null)");
  EXPECT(out != NULL);
  if (out != NULL) {
    EXPECT(strstr(out, "urn:ietf:params:scim:api:messages:2.0:Error") != NULL);
    snprintf(needle, sizeof needle, "\"scimType\":\"%s\"", scim_type);
    EXPECT(strstr(out, needle) != NULL);
  }
  preflight_string_free(out);
}

static preflight_engine *load_demo(void) {
  preflight_engine *engine = NULL;
  char *out = NULL;
  const char *paths[1];
  int status;
  paths[0] = snapshot;
  status = preflight_engine_load(paths, 1, NULL, 0, 0, &engine, &out);
  EXPECT(status == PREFLIGHT_OK);
  EXPECT(out == NULL);
  EXPECT(engine != NULL);
  if (status != PREFLIGHT_OK) fprintf(stderr, "load: %s\n", out);
  preflight_string_free(out);
  return engine;
}

static void test_strings(void) {
  EXPECT(strcmp(preflight_version(), "0.1.0") == 0);
  EXPECT(strcmp(preflight_status_scim_type(PREFLIGHT_INVALID_SYNTAX), "invalidSyntax") == 0);
  EXPECT(strcmp(preflight_status_scim_type(PREFLIGHT_OK), "") == 0);
  EXPECT(strcmp(preflight_status_scim_type(PREFLIGHT_INTERNAL), "") == 0);
  EXPECT(strcmp(preflight_status_scim_type(12345), "") == 0);
  EXPECT(strcmp(preflight_status_scim_type(PREFLIGHT_NO_SUCH_RESOURCE), "") == 0);
  preflight_string_free(NULL);
  preflight_engine_free(NULL);
  preflight_shared_free(NULL);
}

static void test_load_errors(void) {
  preflight_engine *engine = (preflight_engine *)&engine; /* must be reset to NULL */
  char *out = NULL;
  const char *missing[] = {"/nonexistent/preflight-snapshot"};
  const char *null_path[] = {NULL};
  const char *paths[1];
  const char *bad_limit[] = {"max_widgets=3"};
  const char *zero_limit[] = {"max_nesting_depth=0"};
  char dir[] = "/tmp/preflight_c_abi_XXXXXX";
  char bad_file[sizeof dir + 16];
  const char *bad[1];
  FILE *f;
  paths[0] = snapshot;

  EXPECT(preflight_engine_load(paths, 1, NULL, 0, 0, &engine, NULL) == PREFLIGHT_INVALID_ARGUMENT);
  EXPECT_ERROR(preflight_engine_load(paths, 1, NULL, 0, 0, NULL, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_engine_load(NULL, 1, NULL, 0, 0, &engine, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT(engine == NULL);
  EXPECT_ERROR(preflight_engine_load(null_path, 1, NULL, 0, 0, &engine, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_engine_load(paths, 1, NULL, 1, 0, &engine, &out), PREFLIGHT_INVALID_VALUE, "invalidValue");
  EXPECT_ERROR(preflight_engine_load(paths, 1, null_path, 1, 0, &engine, &out), PREFLIGHT_INVALID_VALUE, "invalidValue");
  EXPECT_ERROR(preflight_engine_load(missing, 1, NULL, 0, 0, &engine, &out), PREFLIGHT_NOT_FOUND, "invalidValue");
  EXPECT(engine == NULL);
  EXPECT_ERROR(preflight_engine_load(paths, 1, bad_limit, 1, 0, &engine, &out), PREFLIGHT_INVALID_VALUE, "invalidValue");
  EXPECT_ERROR(preflight_engine_load(paths, 1, zero_limit, 1, 0, &engine, &out), PREFLIGHT_INVALID_VALUE, "invalidValue");
  /* A snapshot that loads with errors is refused unless partial loading is asked for. */
  EXPECT(mkdtemp(dir) != NULL);
  snprintf(bad_file, sizeof bad_file, "%s/bad.xml", dir);
  f = fopen(bad_file, "wb");
  EXPECT(f != NULL);
  if (f != NULL) {
    fputs("<sailpoint><Identity name=\"x\"", f);
    fclose(f);
  }
  bad[0] = dir;
  EXPECT_ERROR(preflight_engine_load(bad, 1, NULL, 0, 0, &engine, &out), PREFLIGHT_INVALID_VALUE, "invalidValue");
  EXPECT(engine == NULL);
  EXPECT(preflight_engine_load(bad, 1, NULL, 0, PREFLIGHT_LOAD_ALLOW_PARTIAL, &engine, &out) == PREFLIGHT_OK);
  EXPECT(engine != NULL);
  preflight_engine_free(engine);
  remove(bad_file);
  rmdir(dir);
}

/* Request bodies the check tests share. */
static const char *const bad_json = "{\"identity\": ";
static const char *const unknown =
    "{\"identity\":\"Nobody.Here\",\"plan\":{\"value\":\"{accounts=[]}\","
    "\"type\":\"application/sailpoint.object.ProvisioningPlan+json\"}}";

static void test_check(preflight_engine *engine) {
  char *out = NULL;
  const char *bad_plan =
      "{\"identity\":\"Ryan.Russell\",\"plan\":{\"value\":\"<ProvisioningPlan>\","
      "\"type\":\"application/xml\"}}";
  int status = preflight_check(engine, request_body, strlen(request_body), 0, &out);
  EXPECT(status == PREFLIGHT_OK);
  EXPECT(out != NULL && strstr(out, "\"constraintName\":\"IT SOD-117\"") != NULL);
  preflight_string_free(out);

  status = preflight_check(engine, request_body, strlen(request_body), PREFLIGHT_PRETTY, &out);
  EXPECT(status == PREFLIGHT_OK);
  EXPECT(out != NULL && strstr(out, "\"constraintName\": \"IT SOD-117\"") != NULL);
  preflight_string_free(out);

  /* Not NUL-terminated: the length is what counts. */
  status = preflight_check(engine, request_body, 5, 0, &out);
  EXPECT_ERROR(status, PREFLIGHT_INVALID_SYNTAX, "invalidSyntax");
  EXPECT_ERROR(preflight_check(engine, bad_json, strlen(bad_json), 0, &out), PREFLIGHT_INVALID_SYNTAX, "invalidSyntax");
  EXPECT_ERROR(preflight_check(engine, "", 0, 0, &out), PREFLIGHT_INVALID_SYNTAX, "invalidSyntax");
  EXPECT_ERROR(preflight_check(engine, unknown, strlen(unknown), 0, &out), PREFLIGHT_INVALID_VALUE, "invalidValue");
  /* IdentityIQ answers every failure inside a check request with invalidValue. */
  EXPECT_ERROR(preflight_check(engine, bad_plan, strlen(bad_plan), 0, &out), PREFLIGHT_INVALID_VALUE, "invalidValue");
  EXPECT_ERROR(preflight_check(NULL, request_body, strlen(request_body), 0, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_check(engine, NULL, 0, 0, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT(preflight_check(engine, request_body, strlen(request_body), 0, NULL) == PREFLIGHT_INVALID_ARGUMENT);
}

/* preflight_check_into writes exactly what preflight_check returns (status and bytes), the
 * response or the SCIM Error, into one buffer reused across calls. */
static void expect_same_into(preflight_engine *engine, preflight_buffer *buffer, const char *body, size_t len,
                             unsigned flags) {
  char *out = NULL;
  int want = preflight_check(engine, body, len, flags, &out);
  int got = preflight_check_into(engine, body, len, flags, buffer);
  EXPECT(got == want);
  EXPECT(out != NULL && strcmp(preflight_buffer_data(buffer), out) == 0);
  EXPECT(out != NULL && preflight_buffer_size(buffer) == strlen(out));
  preflight_string_free(out);
}

static void test_check_into(preflight_engine *engine) {
  preflight_buffer *buffer = NULL;
  const char *quiet =
      "{\"identity\":\"Ryan.Russell\",\"plan\":{\"value\":\"{accounts=[]}\","
      "\"type\":\"application/sailpoint.object.ProvisioningPlan+json\"}}";
  int round;
  EXPECT(preflight_buffer_new(NULL) == PREFLIGHT_INVALID_ARGUMENT);
  EXPECT(preflight_buffer_new(&buffer) == PREFLIGHT_OK);
  EXPECT(buffer != NULL);
  if (buffer == NULL) return;
  EXPECT(strcmp(preflight_buffer_data(buffer), "") == 0 && preflight_buffer_size(buffer) == 0);
  EXPECT(strcmp(preflight_buffer_data(NULL), "") == 0 && preflight_buffer_size(NULL) == 0);
  /* Responses and errors alternate in the same buffer: none leaves anything for the next. */
  for (round = 0; round < 3; ++round) {
    expect_same_into(engine, buffer, request_body, strlen(request_body), 0);
    EXPECT(strstr(preflight_buffer_data(buffer), "\"constraintName\":\"IT SOD-117\"") != NULL);
    expect_same_into(engine, buffer, bad_json, strlen(bad_json), 0);
    EXPECT(strstr(preflight_buffer_data(buffer), "\"scimType\":\"invalidSyntax\"") != NULL);
    expect_same_into(engine, buffer, request_body, strlen(request_body), PREFLIGHT_PRETTY | PREFLIGHT_EXPLAIN);
    EXPECT(strstr(preflight_buffer_data(buffer), "\"constraintName\": \"IT SOD-117\"") != NULL);
    expect_same_into(engine, buffer, unknown, strlen(unknown), 0);
    expect_same_into(engine, buffer, quiet, strlen(quiet), 0);
    EXPECT(strstr(preflight_buffer_data(buffer), "violations") == NULL);
    expect_same_into(engine, buffer, request_body, 5, 0); /* the length is what counts */
  }
  EXPECT(preflight_check_into(NULL, request_body, strlen(request_body), 0, buffer) == PREFLIGHT_INVALID_ARGUMENT);
  EXPECT(strstr(preflight_buffer_data(buffer), "engine is NULL") != NULL);
  EXPECT(preflight_check_into(engine, NULL, 0, 0, buffer) == PREFLIGHT_INVALID_ARGUMENT);
  EXPECT(strstr(preflight_buffer_data(buffer), "request is NULL") != NULL);
  EXPECT(preflight_check_into(engine, request_body, strlen(request_body), 0, NULL) == PREFLIGHT_INVALID_ARGUMENT);
  preflight_buffer_free(buffer);
  preflight_buffer_free(NULL);
}

static void test_limits(void) {
  preflight_engine *engine = NULL;
  char *out = NULL;
  const char *paths[1];
  const char *limits[] = {"max_input_bytes=64", "max_batch_requests=2"};
  const char *three[3];
  int statuses[3];
  paths[0] = snapshot;
  EXPECT(preflight_engine_load(paths, 1, limits, 2, 0, &engine, &out) == PREFLIGHT_OK);
  preflight_string_free(out);
  EXPECT_ERROR(preflight_check(engine, request_body, strlen(request_body), 0, &out), PREFLIGHT_TOO_MANY, "tooMany");
  three[0] = three[1] = three[2] = "{}";
  EXPECT_ERROR(preflight_check_batch(engine, three, NULL, 3, 0, statuses, &out), PREFLIGHT_TOO_MANY, "tooMany");
  EXPECT(preflight_check_batch(engine, three, NULL, 2, 0, statuses, &out) == PREFLIGHT_OK);
  EXPECT(statuses[0] != PREFLIGHT_OK && statuses[1] != PREFLIGHT_OK);
  preflight_string_free(out);
  preflight_engine_free(engine);
}

static void test_batch(preflight_engine *engine) {
  char *out = NULL;
  const char *requests[3];
  size_t lengths[3];
  int statuses[3] = {-1, -1, -1};
  requests[0] = request_body;
  requests[1] = "not json";
  requests[2] = request_body;
  lengths[0] = strlen(request_body);
  lengths[1] = strlen(requests[1]);
  lengths[2] = strlen(request_body);
  EXPECT(preflight_check_batch(engine, requests, lengths, 3, 0, statuses, &out) == PREFLIGHT_OK);
  EXPECT(statuses[0] == PREFLIGHT_OK && statuses[1] == PREFLIGHT_INVALID_SYNTAX && statuses[2] == PREFLIGHT_OK);
  EXPECT(out != NULL && out[0] == '[' && strstr(out, "invalidSyntax") != NULL);
  preflight_string_free(out);
  EXPECT(preflight_check_batch(engine, requests, NULL, 3, 0, NULL, &out) == PREFLIGHT_OK);
  preflight_string_free(out);
  EXPECT(preflight_check_batch(engine, NULL, NULL, 0, 0, NULL, &out) == PREFLIGHT_OK);
  EXPECT(out != NULL && strcmp(out, "[]") == 0);
  preflight_string_free(out);
  EXPECT_ERROR(preflight_check_batch(NULL, requests, NULL, 3, 0, NULL, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_check_batch(engine, NULL, NULL, 3, 0, NULL, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  requests[1] = NULL;
  EXPECT_ERROR(preflight_check_batch(engine, requests, NULL, 3, 0, NULL, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
}

static int contains(const char *text, const char *needle) { return text != NULL && strstr(text, needle) != NULL; }

static void test_reading(preflight_engine *engine) {
  char *out = NULL;
  EXPECT(preflight_engine_info(engine, &out) == PREFLIGHT_OK);
  EXPECT(contains(out, "\"sourceHash\":\"") && contains(out, "\"identities\":2") && contains(out, "\"partial\":false"));
  preflight_string_free(out);
  EXPECT(preflight_stats(engine, 0, &out) == PREFLIGHT_OK);
  EXPECT(contains(out, "\"identities\":2"));
  preflight_string_free(out);
  EXPECT(preflight_stats(engine, PREFLIGHT_PRETTY, &out) == PREFLIGHT_OK);
  EXPECT(contains(out, "\n"));
  preflight_string_free(out);
  EXPECT(preflight_diagnostics(engine, 0, &out) == PREFLIGHT_OK);
  EXPECT(out != NULL && out[0] == '[');
  preflight_string_free(out);
  EXPECT_ERROR(preflight_engine_info(NULL, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_stats(NULL, 0, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_diagnostics(NULL, 0, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT(preflight_stats(engine, 0, NULL) == PREFLIGHT_INVALID_ARGUMENT);

  EXPECT(preflight_query(engine, "Users", "userName sw \"R\"", "userName", NULL, NULL, NULL, -1, -1, &out) ==
         PREFLIGHT_OK);
  EXPECT(contains(out, "\"totalResults\":1") && contains(out, "Ryan.Russell") && !contains(out, "Amanda"));
  preflight_string_free(out);
  EXPECT(preflight_query(engine, "Users", NULL, "userName", NULL, "userName", "descending", 1, 1, &out) ==
         PREFLIGHT_OK);
  EXPECT(contains(out, "\"totalResults\":2") && contains(out, "\"itemsPerPage\":1") && contains(out, "Ryan.Russell"));
  preflight_string_free(out);
  EXPECT_ERROR(preflight_query(engine, "Users", "userName eq", NULL, NULL, NULL, NULL, -1, -1, &out),
               PREFLIGHT_INVALID_FILTER, "invalidFilter");
  EXPECT_ERROR(preflight_query(engine, "Users", NULL, NULL, NULL, NULL, "sideways", -1, -1, &out),
               PREFLIGHT_INVALID_VALUE, "invalidValue");
  EXPECT(preflight_query(engine, "Widgets", NULL, NULL, NULL, NULL, NULL, -1, -1, &out) != PREFLIGHT_OK);
  preflight_string_free(out);
  EXPECT_ERROR(preflight_query(NULL, "Users", NULL, NULL, NULL, NULL, NULL, -1, -1, &out),
               PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_query(engine, NULL, NULL, NULL, NULL, NULL, NULL, -1, -1, &out),
               PREFLIGHT_INVALID_ARGUMENT, "invalidValue");

  EXPECT(preflight_resource(engine, "Users", "Ryan.Russell", "userName", NULL, &out) == PREFLIGHT_OK);
  EXPECT(contains(out, "\"userName\":\"Ryan.Russell\""));
  preflight_string_free(out);
  EXPECT(preflight_resource(engine, "Users", "Nobody.Here", NULL, NULL, &out) == PREFLIGHT_NO_SUCH_RESOURCE);
  EXPECT(contains(out, "urn:ietf:params:scim:api:messages:2.0:Error") && contains(out, "\"status\":\"404\"") &&
         !contains(out, "scimType"));
  preflight_string_free(out);
  EXPECT_ERROR(preflight_resource(engine, "Users", NULL, NULL, NULL, &out), PREFLIGHT_INVALID_ARGUMENT,
               "invalidValue");
  EXPECT_ERROR(preflight_resource(NULL, "Users", "x", NULL, NULL, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_resource(engine, NULL, "x", NULL, NULL, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
}

static const char plan_xml[] =
    "<ProvisioningPlan><AccountRequest application=\"Active_Directory\" op=\"Modify\">"
    "<AttributeRequest name=\"groupmbr\" op=\"Add\" value=\"UnixAdministration\"/>"
    "</AccountRequest></ProvisioningPlan>";

static void test_compile(preflight_engine *engine) {
  char *out = NULL;
  EXPECT(preflight_compile(engine, "Ryan.Russell", plan_xml, strlen(plan_xml), "xml", 0, &out) == PREFLIGHT_OK);
  EXPECT(contains(out, "Unix Administrator - IT"));
  preflight_string_free(out);
  EXPECT(preflight_compile(engine, "Ryan.Russell", plan_xml, strlen(plan_xml), NULL, 0, &out) == PREFLIGHT_OK);
  preflight_string_free(out);
  EXPECT_ERROR(preflight_compile(engine, "Ryan.Russell", plan_xml, 20, "xml", 0, &out), PREFLIGHT_INVALID_SYNTAX,
               "invalidSyntax");
  EXPECT(preflight_compile(engine, "Nobody.Here", plan_xml, strlen(plan_xml), "xml", 0, &out) != PREFLIGHT_OK);
  EXPECT(contains(out, "Nobody.Here"));
  preflight_string_free(out);
  EXPECT_ERROR(preflight_compile(NULL, "Ryan.Russell", plan_xml, 1, "xml", 0, &out), PREFLIGHT_INVALID_ARGUMENT,
               "invalidValue");
  EXPECT_ERROR(preflight_compile(engine, NULL, plan_xml, 1, "xml", 0, &out), PREFLIGHT_INVALID_ARGUMENT,
               "invalidValue");
  EXPECT_ERROR(preflight_compile(engine, "Ryan.Russell", NULL, 0, "xml", 0, &out), PREFLIGHT_INVALID_ARGUMENT,
               "invalidValue");
}

static void test_no_snapshot(void) {
  char *out = NULL;
  int match = -1;
  const char *tiny[] = {"max_nesting_depth=1"};
  const char *short_filter[] = {"max_filter_length=4"};
  const char *bad_limit[] = {"max_widgets=1"};
  const char *user = "{\"userName\": \"Ryan.Russell\", \"title\": \"Architect\"}";

  EXPECT(preflight_plan_convert(plan_xml, strlen(plan_xml), "json", NULL, 0, NULL, 0, &out) == PREFLIGHT_OK);
  EXPECT(contains(out, "\"application\":\"Active_Directory\""));
  preflight_string_free(out);
  EXPECT(preflight_plan_convert(plan_xml, strlen(plan_xml), "xml", "xml", PREFLIGHT_PRETTY, NULL, 0, &out) ==
         PREFLIGHT_OK);
  EXPECT(contains(out, "<ProvisioningPlan"));
  preflight_string_free(out);
  EXPECT_ERROR(preflight_plan_convert(plan_xml, 20, "json", NULL, 0, NULL, 0, &out), PREFLIGHT_INVALID_SYNTAX,
               "invalidSyntax");
  EXPECT_ERROR(preflight_plan_convert(plan_xml, strlen(plan_xml), "yaml", NULL, 0, NULL, 0, &out),
               PREFLIGHT_INVALID_VALUE, "invalidValue");
  EXPECT_ERROR(preflight_plan_convert(plan_xml, strlen(plan_xml), "json", NULL, 0, tiny, 1, &out),
               PREFLIGHT_TOO_MANY, "tooMany");
  EXPECT_ERROR(preflight_plan_convert(plan_xml, strlen(plan_xml), "json", NULL, 0, bad_limit, 1, &out),
               PREFLIGHT_INVALID_VALUE, "invalidValue");
  EXPECT_ERROR(preflight_plan_convert(NULL, 0, "json", NULL, 0, NULL, 0, &out), PREFLIGHT_INVALID_ARGUMENT,
               "invalidValue");
  EXPECT_ERROR(preflight_plan_convert(plan_xml, 1, NULL, NULL, 0, NULL, 0, &out), PREFLIGHT_INVALID_ARGUMENT,
               "invalidValue");

  EXPECT(preflight_filter_parse("title pr and not (userType eq \"Intern\")", NULL, 0, &out) == PREFLIGHT_OK);
  EXPECT(out != NULL && strcmp(out, "(and (pr title) (not (eq userType \"Intern\")))") == 0);
  preflight_string_free(out);
  EXPECT_ERROR(preflight_filter_parse("title eq", NULL, 0, &out), PREFLIGHT_INVALID_FILTER, "invalidFilter");
  EXPECT_ERROR(preflight_filter_parse("title pr", short_filter, 1, &out), PREFLIGHT_TOO_MANY, "tooMany");
  EXPECT_ERROR(preflight_filter_parse(NULL, NULL, 0, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");

  EXPECT(preflight_filter_eval("userName sw \"R\"", user, strlen(user), NULL, 0, &match, &out) == PREFLIGHT_OK);
  EXPECT(match == 1 && out != NULL && strcmp(out, "true") == 0);
  preflight_string_free(out);
  EXPECT(preflight_filter_eval("title eq \"x\"", user, strlen(user), NULL, 0, &match, &out) == PREFLIGHT_OK);
  EXPECT(match == 0 && out != NULL && strcmp(out, "false") == 0);
  preflight_string_free(out);
  EXPECT(preflight_filter_eval("title pr", user, strlen(user), NULL, 0, NULL, &out) == PREFLIGHT_OK);
  preflight_string_free(out);
  EXPECT_ERROR(preflight_filter_eval("title pr", user, 5, NULL, 0, &match, &out), PREFLIGHT_INVALID_SYNTAX,
               "invalidSyntax");
  EXPECT_ERROR(preflight_filter_eval("title eq", user, strlen(user), NULL, 0, &match, &out),
               PREFLIGHT_INVALID_FILTER, "invalidFilter");
  EXPECT_ERROR(preflight_filter_eval(NULL, user, 1, NULL, 0, &match, &out), PREFLIGHT_INVALID_ARGUMENT,
               "invalidValue");
  EXPECT_ERROR(preflight_filter_eval("title pr", NULL, 0, NULL, 0, &match, &out), PREFLIGHT_INVALID_ARGUMENT,
               "invalidValue");
}

static void test_shared(preflight_engine *engine) {
  preflight_shared_engine *shared = NULL;
  preflight_engine *current = NULL;
  preflight_engine *other = load_demo();
  char *out = NULL;
  EXPECT(preflight_shared_new(engine, &shared, &out) == PREFLIGHT_OK && out == NULL);
  EXPECT(preflight_shared_get(shared, &current, &out) == PREFLIGHT_OK && current != NULL);
  EXPECT(preflight_check(current, request_body, strlen(request_body), 0, &out) == PREFLIGHT_OK);
  preflight_string_free(out);
  EXPECT(preflight_shared_swap(shared, other, &out) == PREFLIGHT_OK);
  /* The old handle stays valid after the swap. */
  EXPECT(preflight_check(current, request_body, strlen(request_body), 0, &out) == PREFLIGHT_OK);
  preflight_string_free(out);
  preflight_engine_free(current);
  preflight_engine_free(other); /* the holder keeps its own reference */
  EXPECT(preflight_shared_get(shared, &current, &out) == PREFLIGHT_OK);
  EXPECT(preflight_check(current, request_body, strlen(request_body), 0, &out) == PREFLIGHT_OK);
  preflight_string_free(out);
  preflight_engine_free(current);
  preflight_shared_free(shared);

  EXPECT_ERROR(preflight_shared_new(NULL, &shared, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_shared_new(engine, NULL, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_shared_get(NULL, &current, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT(current == NULL);
  EXPECT_ERROR(preflight_shared_swap(NULL, engine, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT(preflight_shared_new(engine, &shared, &out) == PREFLIGHT_OK);
  EXPECT_ERROR(preflight_shared_get(shared, NULL, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT_ERROR(preflight_shared_swap(shared, NULL, &out), PREFLIGHT_INVALID_ARGUMENT, "invalidValue");
  EXPECT(preflight_shared_new(engine, &shared, NULL) == PREFLIGHT_INVALID_ARGUMENT);
  preflight_shared_free(shared);
}

/* Many threads: checkers take the current engine from the holder, one thread swaps. */
#define THREADS 8
#define ROUNDS 200
static preflight_shared_engine *shared_for_threads;
static int thread_failures[THREADS + 1];

static void *checker(void *arg) {
  int id = (int)(size_t)arg;
  int i;
  preflight_buffer *buffer = NULL;
  if (preflight_buffer_new(&buffer) != PREFLIGHT_OK) ++thread_failures[id];
  for (i = 0; i < ROUNDS; ++i) {
    preflight_engine *engine = NULL;
    char *out = NULL;
    if (preflight_shared_get(shared_for_threads, &engine, &out) != PREFLIGHT_OK) ++thread_failures[id];
    if (preflight_check(engine, request_body, strlen(request_body), 0, &out) != PREFLIGHT_OK ||
        strstr(out, "IT SOD-117") == NULL)
      ++thread_failures[id];
    preflight_string_free(out);
    if (preflight_check(engine, "{", 1, 0, &out) != PREFLIGHT_INVALID_SYNTAX) ++thread_failures[id];
    preflight_string_free(out);
    if (preflight_check_into(engine, request_body, strlen(request_body), 0, buffer) != PREFLIGHT_OK ||
        strstr(preflight_buffer_data(buffer), "IT SOD-117") == NULL)
      ++thread_failures[id];
    if (preflight_query(engine, "Users", "userName sw \"R\"", "userName", NULL, NULL, NULL, -1, -1, &out) !=
            PREFLIGHT_OK ||
        strstr(out, "Ryan.Russell") == NULL)
      ++thread_failures[id];
    preflight_string_free(out);
    if (preflight_compile(engine, "Ryan.Russell", plan_xml, sizeof plan_xml - 1, "xml", 0, &out) != PREFLIGHT_OK)
      ++thread_failures[id];
    preflight_string_free(out);
    if (preflight_filter_parse("title pr", NULL, 0, &out) != PREFLIGHT_OK) ++thread_failures[id];
    preflight_string_free(out);
    preflight_engine_free(engine);
  }
  preflight_buffer_free(buffer);
  return NULL;
}

static void *swapper(void *arg) {
  preflight_engine *engine = (preflight_engine *)arg;
  int i;
  for (i = 0; i < ROUNDS / 4; ++i) {
    char *out = NULL;
    if (preflight_shared_swap(shared_for_threads, engine, &out) != PREFLIGHT_OK) ++thread_failures[THREADS];
    preflight_string_free(out);
  }
  return NULL;
}

static void test_threads(preflight_engine *engine) {
  pthread_t threads[THREADS + 1];
  preflight_engine *second = load_demo();
  char *out = NULL;
  size_t i;
  EXPECT(preflight_shared_new(engine, &shared_for_threads, &out) == PREFLIGHT_OK);
  for (i = 0; i < THREADS; ++i) pthread_create(&threads[i], NULL, checker, (void *)i);
  pthread_create(&threads[THREADS], NULL, swapper, second);
  for (i = 0; i <= THREADS; ++i) {
    pthread_join(threads[i], NULL);
    EXPECT(thread_failures[i] == 0);
  }
  preflight_shared_free(shared_for_threads);
  preflight_engine_free(second);
}

int main(int argc, char **argv) {
  preflight_engine *engine;
  char path[4096];
  if (argc != 2) {
    fprintf(stderr, "usage: %s EXAMPLES_DIR\n", argv[0]);
    return 2;
  }
  snprintf(snapshot, sizeof snapshot, "%s/demo-snapshot", argv[1]);
  snprintf(path, sizeof path, "%s/request.json", argv[1]);
  request_body = read_file(path);
  if (request_body == NULL) {
    fprintf(stderr, "cannot read %s\n", path);
    return 2;
  }
  test_strings();
  test_load_errors();
  engine = load_demo();
  if (engine == NULL) return 1;
  test_check(engine);
  test_check_into(engine);
  test_batch(engine);
  test_limits();
  test_reading(engine);
  test_compile(engine);
  test_no_snapshot();
  test_shared(engine);
  test_threads(engine);
  preflight_engine_free(engine);
  free(request_body);
  if (failures) fprintf(stderr, "%d failure(s)\n", failures);
  else printf("c_abi_test: all passed\n");
  return failures ? 1 : 0;
}
