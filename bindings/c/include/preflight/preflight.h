/* Preflight's C ABI: IdentityIQ CheckedPolicyViolations answered in-process.
 *
 * C99, no C++ types. Link with -lpreflight (libpreflight.so.0). Every call takes and
 * returns JSON text (UTF-8, NUL-terminated), as the SCIM API and the `preflight` command do
 * (preflight_filter_parse alone returns an S-expression).
 *
 *   preflight_engine *engine = NULL;
 *   char *out = NULL;
 *   const char *paths[] = {"examples/demo-snapshot"};
 *   if (preflight_engine_load(paths, 1, NULL, 0, 0, &engine, &out) != PREFLIGHT_OK) {
 *     fprintf(stderr, "%s\n", out);          // a SCIM Error resource
 *     preflight_string_free(out);
 *     return 1;
 *   }
 *   int status = preflight_check(engine, body, strlen(body), 0, &out);
 *   puts(out);                                // the response, or a SCIM Error if status != 0
 *   preflight_string_free(out);
 *   preflight_engine_free(engine);
 *
 * Conventions, for every function below:
 * - The return value is a preflight_status: PREFLIGHT_OK (0) or the error's code.
 * - `out` (char **) receives a string the caller owns and releases with
 *   preflight_string_free(): on success the result (NULL for the calls whose result is a
 *   handle), on failure a SCIM Error resource
 *   {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400",
 *    "scimType":"invalidSyntax","detail":"..."}, or NULL if even that could not be
 *   allocated (PREFLIGHT_NO_MEMORY). If `out` itself is NULL the call returns
 *   PREFLIGHT_INVALID_ARGUMENT and does nothing.
 * - A NULL handle or a NULL required string is PREFLIGHT_INVALID_ARGUMENT (scimType invalidValue).
 * - No function throws, aborts or keeps a pointer it was given after it returns.
 * - `limits` is an array of `n_limits` "NAME=N" strings changing the input budgets
 *   (max_input_bytes, max_nesting_depth, max_filter_length, max_filter_depth,
 *   max_batch_requests, max_plan_values, max_plan_requests); NULL/0 keeps the defaults.
 *   Exceeding a budget is PREFLIGHT_TOO_MANY.
 *
 * Thread safety: an engine is immutable. Every function that takes a `const
 * preflight_engine *` may be called from any number of threads at once on the same
 * engine. The shared-engine functions may be called concurrently with each other and
 * with checks. The only calls that need the caller's exclusion are the *_free
 * functions: free a handle once, after the last call that uses it has returned.
 */
#ifndef PREFLIGHT_PREFLIGHT_H_
#define PREFLIGHT_PREFLIGHT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PREFLIGHT_C_BUILD)
#define PREFLIGHT_API __attribute__((visibility("default")))
#else
#define PREFLIGHT_API
#endif

/* The ABI's version: bumped with the soname, never for an addition. */
#define PREFLIGHT_ABI_VERSION 0

typedef enum preflight_status {
  PREFLIGHT_OK = 0,
  PREFLIGHT_INVALID_VALUE = 1,    /* scimType invalidValue: well-formed input with a wrong value */
  PREFLIGHT_INVALID_SYNTAX = 2,   /* invalidSyntax: malformed JSON, XML or map text */
  PREFLIGHT_INVALID_FILTER = 3,   /* invalidFilter */
  PREFLIGHT_INVALID_PATH = 4,     /* invalidPath */
  PREFLIGHT_TOO_MANY = 5,         /* tooMany: a budget was exceeded */
  PREFLIGHT_NO_TARGET = 6,        /* noTarget */
  PREFLIGHT_UNSUPPORTED = 7,      /* something Preflight cannot evaluate */
  PREFLIGHT_NOT_FOUND = 8,        /* a file or a named object does not exist (status 400) */
  PREFLIGHT_INTERNAL = 9,         /* a bug */
  PREFLIGHT_INVALID_ARGUMENT = 10, /* the caller broke this header's contract (NULL handle...) */
  PREFLIGHT_NO_MEMORY = 11,       /* allocation failed; `out` may be NULL */
  PREFLIGHT_NO_SUCH_RESOURCE = 12 /* preflight_resource: no resource has that id (SCIM status 404) */
} preflight_status;

/* Flags (bitwise or) for the calls that produce JSON. */
#define PREFLIGHT_PRETTY 1u   /* indent the JSON by two spaces */
#define PREFLIGHT_EXPLAIN 2u  /* check: say why each violation holds */

/* Flags for preflight_engine_load. */
#define PREFLIGHT_LOAD_ALLOW_PARTIAL 1u /* keep a snapshot that loaded with errors (default: refuse it) */
/* open a compiled image with verify "lazy" (default "full"): the header and small sections at
   open, each record as a call reads it, the rest on a background thread; a corruption found
   there fails every later call */
#define PREFLIGHT_LOAD_IMAGE_VERIFY_LAZY 2u

typedef struct preflight_engine preflight_engine;               /* an immutable loaded snapshot */
typedef struct preflight_shared_engine preflight_shared_engine; /* holds the current engine; swappable */

/* ---- Strings and versions. Thread-safe. -------------------------------------------- */

/* Releases a string returned through an `out` parameter. NULL is allowed. */
PREFLIGHT_API void preflight_string_free(char *s);
/* The library's version ("0.1.0"): static storage, never freed. */
PREFLIGHT_API const char *preflight_version(void);
/* The scimType of a status ("invalidSyntax"; "" for PREFLIGHT_OK and for the statuses whose SCIM
 * Error has none: internal, no memory, no such resource): static storage. */
PREFLIGHT_API const char *preflight_status_scim_type(int status);

/* ---- Engines. --------------------------------------------------------------------- */

/* Loads a snapshot: `n_paths` files or directories of IdentityIQ XML and SCIM JSON exports.
 * On success *engine_out is a new handle (release with preflight_engine_free) and *out is
 * NULL; on failure *engine_out is NULL. Thread-safe. */
PREFLIGHT_API int preflight_engine_load(const char *const *paths, size_t n_paths,
                                        const char *const *limits, size_t n_limits,
                                        unsigned flags, preflight_engine **engine_out, char **out);
/* Releases a handle. NULL is allowed. Not concurrently with other calls on the same handle;
 * an engine still held by a shared engine stays alive there. */
PREFLIGHT_API void preflight_engine_free(preflight_engine *engine);

/* One CheckedPolicyViolations request body (`{"identity", "plan": {"value", "type"},
 * "policies"}`, `len` bytes; not NUL-terminated necessarily) in, the response resource out.
 * Thread-safe. */
PREFLIGHT_API int preflight_check(const preflight_engine *engine, const char *request, size_t len,
                                  unsigned flags, char **out);
/* Many request bodies in one call. `lengths` may be NULL (every request NUL-terminated).
 * *out is a JSON array with one element per request, in order: its response, or its SCIM
 * Error resource. `statuses` may be NULL, else it receives n status codes. The return value
 * is PREFLIGHT_OK when the batch ran (even if some requests failed), an error (and *out the
 * SCIM Error) when it could not (too many requests). Thread-safe. */
PREFLIGHT_API int preflight_check_batch(const preflight_engine *engine, const char *const *requests,
                                        const size_t *lengths, size_t n, unsigned flags,
                                        int *statuses, char **out);

/* A reusable output buffer: for a caller that checks in a loop and wants no allocation per
 * call. Once it has grown to the size of the responses, preflight_check_into allocates
 * nothing in the library for a request that reports no violation, and nothing beyond the
 * check's own lists otherwise. A buffer is not thread-safe: use one per thread.
 * preflight_buffer_new returns PREFLIGHT_OK or PREFLIGHT_NO_MEMORY (then *buffer_out is NULL),
 * or PREFLIGHT_INVALID_ARGUMENT if buffer_out is NULL. */
typedef struct preflight_buffer preflight_buffer;
PREFLIGHT_API int preflight_buffer_new(preflight_buffer **buffer_out);
/* Releases a buffer. NULL is allowed. */
PREFLIGHT_API void preflight_buffer_free(preflight_buffer *buffer);
/* The text the last call wrote (NUL-terminated; "" for a new buffer, and after a call that
 * failed for want of memory), valid until the next call that writes into the buffer or frees
 * it. NULL buffer: "". */
PREFLIGHT_API const char *preflight_buffer_data(const preflight_buffer *buffer);
/* Its length in bytes, without the NUL. NULL buffer: 0. */
PREFLIGHT_API size_t preflight_buffer_size(const preflight_buffer *buffer);

/* preflight_check into a reused buffer: the same status, and the same bytes in `out` that
 * preflight_check gives in its string (the response, or the SCIM Error). A NULL `out` is
 * PREFLIGHT_INVALID_ARGUMENT and writes nothing. Thread-safe on the engine. */
PREFLIGHT_API int preflight_check_into(const preflight_engine *engine, const char *request, size_t len,
                                       unsigned flags, preflight_buffer *out);

/* What the engine is: {"sourceHash": hex content hash of the sources, "identities": N,
 * "policies": N, "loadErrors": N, "partial": bool, "loadMs": ms}. Thread-safe. */
PREFLIGHT_API int preflight_engine_info(const preflight_engine *engine, char **out);
/* The snapshot's statistics: counts, memory, load time per pass, diagnostics. Thread-safe. */
PREFLIGHT_API int preflight_stats(const preflight_engine *engine, unsigned flags, char **out);
/* The load diagnostics, a JSON array. Thread-safe. */
PREFLIGHT_API int preflight_diagnostics(const preflight_engine *engine, unsigned flags, char **out);

/* A SCIM query (RFC 7644 section 3.4.2) over one resource type (Users, Accounts,
 * Entitlements, Roles, Applications): a ListResponse. `filter`, `attributes` and
 * `excluded_attributes` (comma-separated names), `sort_by` and `sort_order` ("ascending" or
 * "descending") may be NULL; `start_index` and `count` below 0 mean "not given". Thread-safe. */
PREFLIGHT_API int preflight_query(const preflight_engine *engine, const char *resource_type, const char *filter,
                                  const char *attributes, const char *excluded_attributes, const char *sort_by,
                                  const char *sort_order, int64_t start_index, int64_t count, char **out);
/* One resource by id, projected like a query's; PREFLIGHT_NO_SUCH_RESOURCE when there is none.
 * `attributes` and `excluded_attributes` may be NULL. Thread-safe. */
PREFLIGHT_API int preflight_resource(const preflight_engine *engine, const char *resource_type, const char *id,
                                     const char *attributes, const char *excluded_attributes, char **out);

/* `plan compile`: a plan (`plan_len` bytes; `plan_type` "xml", "json", "map", a media type,
 * or NULL/"" to detect) applied to `identity`: the compiled plan and the projected pre and
 * post roles and entitlements. Thread-safe. */
PREFLIGHT_API int preflight_compile(const preflight_engine *engine, const char *identity, const char *plan,
                                    size_t plan_len, const char *plan_type, unsigned flags, char **out);

/* ---- No snapshot needed. Thread-safe. ------------------------------------------- */

/* A plan converted to `to` ("xml" or "json") from `from` ("xml", "json", "map", a media
 * type, or NULL/"" to detect). */
PREFLIGHT_API int preflight_plan_convert(const char *plan, size_t len, const char *to, const char *from,
                                         unsigned flags, const char *const *limits, size_t n_limits, char **out);
/* A SCIM filter's syntax tree in the S-expression notation of
 * tests/corpus/scim-filter/SOURCES.md, e.g. (and (eq userType "Employee") (pr title)). */
PREFLIGHT_API int preflight_filter_parse(const char *filter, const char *const *limits, size_t n_limits,
                                         char **out);
/* Whether one JSON resource (`len` bytes) matches a SCIM filter: *match is 1 or 0 and *out
 * "true" or "false". `match` may be NULL. */
PREFLIGHT_API int preflight_filter_eval(const char *filter, const char *resource, size_t len,
                                        const char *const *limits, size_t n_limits, int *match, char **out);

/* ---- Engine swap. ------------------------------------------------------------------ */

/* A holder of the current engine. preflight_shared_get hands out a new reference, so a
 * swap never blocks or invalidates a check in progress. All three are thread-safe. */
PREFLIGHT_API int preflight_shared_new(const preflight_engine *engine, preflight_shared_engine **shared_out,
                                       char **out);
/* *engine_out: a new handle on the current engine (release with preflight_engine_free). */
PREFLIGHT_API int preflight_shared_get(const preflight_shared_engine *shared, preflight_engine **engine_out,
                                       char **out);
/* Makes `engine` current. The caller keeps its own handle on `engine` (free it when done). */
PREFLIGHT_API int preflight_shared_swap(preflight_shared_engine *shared, const preflight_engine *engine,
                                        char **out);
/* Releases the holder. NULL is allowed. Not concurrently with other calls on it. */
PREFLIGHT_API void preflight_shared_free(preflight_shared_engine *shared);

#ifdef __cplusplus
}
#endif

#endif /* PREFLIGHT_PREFLIGHT_H_ */
