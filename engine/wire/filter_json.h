#pragma once
// A parsed SCIM filter as JSON, for faces that rebuild the tree in their own language
// (the Python module's FilterNode).

#include <string>

namespace preflight {

struct FilterNode;

// {"kind","op","path","uri","name","sub","valueKind","valueText","span":[b,e],"sexpr","text",
//  "children":[...]}; absent parts are null. Depth is bounded by the parser's budget.
std::string FilterNodeJson(const FilterNode& node);

}  // namespace preflight
