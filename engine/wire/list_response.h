#pragma once
// A query's page as a SCIM ListResponse (RFC 7644 section 3.4.2):
// {"schemas":[ListResponse],"totalResults":N,"startIndex":S,"itemsPerPage":K,"Resources":[...]}.
// Resources is always present (maybe []).

#include <string>

#include "engine/query/query.h"

namespace preflight {

std::string ListResponseJson(const QueryPage& page);

}  // namespace preflight
