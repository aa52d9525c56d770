/* The C ABI from an installed tree: load a snapshot, answer one request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <preflight/preflight.h>

int main(int argc, char **argv) {
  preflight_engine *engine = NULL;
  char *out = NULL;
  const char *paths[1];
  static char body[1 << 16];
  size_t len;
  FILE *f;
  int status;
  if (argc != 3) return 2;
  paths[0] = argv[1];
  if (preflight_engine_load(paths, 1, NULL, 0, 0, &engine, &out) != PREFLIGHT_OK) {
    fprintf(stderr, "%s\n", out);
    preflight_string_free(out);
    return 1;
  }
  f = fopen(argv[2], "rb");
  if (f == NULL) return 1;
  len = fread(body, 1, sizeof body, f);
  fclose(f);
  status = preflight_check(engine, body, len, 0, &out);
  puts(out);
  preflight_string_free(out);
  preflight_engine_free(engine);
  return status == PREFLIGHT_OK ? 0 : 1;
}
