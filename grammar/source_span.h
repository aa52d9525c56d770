#pragma once
// A byte range in the text a grammar parsed. Every AST node carries one, so errors
// found after parsing (binding, evaluation) can still point at the source.

#include <cstdint>
#include <string>
#include <string_view>

namespace preflight {

struct SourceSpan {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// "unexpected token at offset 7:\n  a eq \n         ^" style rendering.
std::string CaretMessage(std::string_view text, uint32_t offset, std::string_view what);

}  // namespace preflight
