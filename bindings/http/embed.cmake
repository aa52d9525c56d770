# Writes OUT, a C++ source defining preflight::http::kScimSchemasJson from the file IN.
file(READ ${IN} content)
file(WRITE ${OUT} "// Generated from scim_schemas.json by embed.cmake; do not edit.\n"
  "#include <string_view>\nnamespace preflight::http {\n"
  "extern const std::string_view kScimSchemasJson;\n"
  "const std::string_view kScimSchemasJson = R\"pfjson(${content})pfjson\";\n}\n")
