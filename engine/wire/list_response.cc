#include "engine/wire/list_response.h"

#include "engine/util/json_writer.h"
#include "engine/util/scim_urns.h"

namespace preflight {

std::string ListResponseJson(const QueryPage& page) {
  JsonWriter w;
  w.BeginObject();
  w.Key("schemas").BeginArray().String(urn::kListResponse).EndArray();
  w.Key("totalResults").Int(page.total_results);
  w.Key("startIndex").Int(page.start_index);
  w.Key("itemsPerPage").Int(static_cast<int64_t>(page.resources.size()));
  w.Key("Resources").BeginArray();
  for (const std::string& resource : page.resources) w.Raw(resource);
  w.EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace preflight
