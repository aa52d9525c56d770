#include "grammar/source_span.h"

#include "absl/strings/str_cat.h"

namespace preflight {

std::string CaretMessage(std::string_view text, uint32_t offset, std::string_view what) {
  if (offset > text.size()) offset = static_cast<uint32_t>(text.size());
  // Show the line that holds the offset, with control characters made visible.
  size_t begin = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  begin = (begin == std::string_view::npos || offset == 0) ? 0 : begin + 1;
  size_t end = text.find('\n', offset);
  if (end == std::string_view::npos) end = text.size();
  std::string line;
  for (char c : text.substr(begin, end - begin))
    line.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  return absl::StrCat(absl::string_view(what.data(), what.size()), " at offset ", offset, "\n  ",
                      line, "\n  ", std::string(offset - begin, ' '), "^");
}

}  // namespace preflight
