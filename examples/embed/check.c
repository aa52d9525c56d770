/* Load the demo snapshot and answer examples/request.json through the C ABI. */
#include <stdio.h>
#include <string.h>

#include <preflight/preflight.h>

int main(void) {
  const char *paths[] = {"examples/demo-snapshot"};
  const char *body =
      "{\"identity\": \"Ryan.Russell\", \"plan\": {\"type\": \"application/xml\", \"value\":"
      " \"<ProvisioningPlan><AccountRequest application='Active_Directory' op='Modify'>"
      "<AttributeRequest name='groupmbr' op='Add' value='UnixAdministration'/>"
      "</AccountRequest></ProvisioningPlan>\"}}";
  preflight_engine *engine = NULL;
  char *out = NULL;
  int status = preflight_engine_load(paths, 1, NULL, 0, 0, &engine, &out);
  if (status != PREFLIGHT_OK) {
    fprintf(stderr, "load failed (%s): %s\n", preflight_status_scim_type(status), out);
    preflight_string_free(out);
    return 1;
  }
  status = preflight_check(engine, body, strlen(body), PREFLIGHT_PRETTY, &out);
  puts(out); /* the CheckedPolicyViolation resource, or a SCIM Error if status != 0 */
  preflight_string_free(out);
  preflight_engine_free(engine);
  return status == PREFLIGHT_OK ? 0 : 1;
}
