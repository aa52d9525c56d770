// Doc from JSON text (simdjson DOM: full validation, one reused parser per thread) and back.

#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "engine/query/doc.h"
#include "engine/util/error.h"
#include "engine/util/json_writer.h"
#include "simdjson.h"

namespace preflight {

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void AppendShortestDouble(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  out += s;
  // Keep a decimal visibly decimal ("1.0", not "1") so a round trip preserves the JSON type.
  if (s.find_first_of(".eE") == std::string_view::npos && s != "inf" && s != "nan") out += ".0";
}

class DocAssembler {
 public:
  DocAssembler(Doc& doc, const Limits& limits) : doc_(doc), limits_(limits) {}

  absl::Status Build(simdjson::dom::element root) {
    nodes_.clear();
    members_.clear();
    arena_.clear();
    nodes_.resize(1);
    absl::Status s = Fill(root, 0, 0);
    if (!s.ok()) return s;
    // Pack into the document's single buffer.
    static_assert(std::is_trivially_copyable_v<DocNode> && std::is_trivially_copyable_v<Doc::Member>);
    const size_t nb = nodes_.size() * sizeof(DocNode), mb = members_.size() * sizeof(Doc::Member);
    doc_.buf_.resize(nb + mb + arena_.size());
    std::memcpy(doc_.buf_.data(), nodes_.data(), nb);
    if (mb) std::memcpy(doc_.buf_.data() + nb, members_.data(), mb);
    if (!arena_.empty()) std::memcpy(doc_.buf_.data() + nb + mb, arena_.data(), arena_.size());
    doc_.node_count_ = static_cast<uint32_t>(nodes_.size());
    doc_.member_count_ = static_cast<uint32_t>(members_.size());
    return absl::OkStatus();
  }

  absl::Status Fill(simdjson::dom::element e, uint32_t index, int depth) {
    using simdjson::dom::element_type;
    DocNode n;
    switch (e.type()) {
      case element_type::NULL_VALUE:
        n.type = DocType::kNull;
        break;
      case element_type::BOOL:
        n.type = DocType::kBool;
        n.bool_value = e.get_bool().value_unsafe();
        break;
      case element_type::INT64:
        n.type = DocType::kNumber;
        n.is_int = true;
        n.int_value = e.get_int64().value_unsafe();
        n.number = static_cast<double>(n.int_value);
        break;
      case element_type::UINT64:
        n.type = DocType::kNumber;
        n.number = static_cast<double>(e.get_uint64().value_unsafe());
        break;
      case element_type::DOUBLE:
        n.type = DocType::kNumber;
        n.number = e.get_double().value_unsafe();
        break;
      case element_type::STRING: {
        std::string_view s = e.get_string().value_unsafe();
        n.type = DocType::kString;
        AddString(s, n.first, n.aux);
        n.size = static_cast<uint32_t>(s.size());
        break;
      }
      case element_type::ARRAY: {
        if (depth >= limits_.max_nesting_depth) return TooDeep();
        simdjson::dom::array a = e.get_array().value_unsafe();
        n.type = DocType::kArray;
        n.size = static_cast<uint32_t>(a.size());
        n.first = static_cast<uint32_t>(nodes_.size());
        nodes_.resize(nodes_.size() + n.size);
        nodes_[index] = n;
        uint32_t i = 0;
        for (simdjson::dom::element c : a) {
          absl::Status s = Fill(c, n.first + i++, depth + 1);
          if (!s.ok()) return s;
        }
        return absl::OkStatus();
      }
      case element_type::OBJECT: {
        if (depth >= limits_.max_nesting_depth) return TooDeep();
        simdjson::dom::object o = e.get_object().value_unsafe();
        n.type = DocType::kObject;
        n.size = static_cast<uint32_t>(o.size());
        n.first = static_cast<uint32_t>(nodes_.size());
        n.aux = static_cast<uint32_t>(members_.size());
        nodes_.resize(nodes_.size() + n.size);
        members_.resize(members_.size() + n.size);
        nodes_[index] = n;
        uint32_t i = 0;
        for (simdjson::dom::key_value_pair kv : o) {
          Doc::Member m;
          AddString(kv.key, m.key, m.lower);
          m.size = static_cast<uint32_t>(kv.key.size());
          m.prefix = Doc::Prefix(std::string_view(arena_.data() + m.lower, m.size));
          members_[n.aux + i] = m;
          absl::Status s = Fill(kv.value, n.first + i, depth + 1);
          if (!s.ok()) return s;
          ++i;
        }
        return absl::OkStatus();
      }
    }
    nodes_[index] = n;
    return absl::OkStatus();
  }

 private:
  void AddString(std::string_view s, uint32_t& original, uint32_t& lower) {
    original = static_cast<uint32_t>(arena_.size());
    arena_.append(s);
    bool has_upper = false;
    for (char c : s) has_upper |= (c >= 'A' && c <= 'Z');
    if (!has_upper) {
      lower = original;
      return;
    }
    lower = static_cast<uint32_t>(arena_.size());
    for (char c : s) arena_.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  }
  absl::Status TooDeep() {
    return MakeError(ErrorCode::kTooMany, absl::StrCat("JSON nests deeper than the budget of ",
                                                       limits_.max_nesting_depth, " levels"));
  }

  Doc& doc_;
  const Limits& limits_;
  // Scratch, reused across documents on this thread.
  std::vector<DocNode>& nodes_ = Scratch().nodes;
  std::vector<Doc::Member>& members_ = Scratch().members;
  std::string& arena_ = Scratch().arena;

  struct ScratchSpace {
    std::vector<DocNode> nodes;
    std::vector<Doc::Member> members;
    std::string arena;
  };
  static ScratchSpace& Scratch() {
    thread_local ScratchSpace scratch;
    return scratch;
  }
};

absl::StatusOr<Doc> DocFromJson(std::string_view json, const Limits& limits) {
  if (json.size() > limits.max_input_bytes) {
    return MakeError(ErrorCode::kTooMany, absl::StrCat("JSON resource is ", json.size(),
                                                       " bytes, over the budget of ", limits.max_input_bytes));
  }
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root)) {
    return MakeError(ErrorCode::kInvalidSyntax, absl::StrCat("invalid JSON: ", simdjson::error_message(err)));
  }
  Doc doc;
  DocAssembler assembler(doc, limits);
  absl::Status s = assembler.Build(root);
  if (!s.ok()) return s;
  return doc;
}

void WriteDocNode(const Doc& doc, uint32_t index, JsonWriter& out) {
  const DocNode& n = doc.node(index);
  switch (n.type) {
    case DocType::kNull: out.Null(); return;
    case DocType::kBool: out.Bool(n.bool_value); return;
    case DocType::kNumber:
      if (n.is_int) {
        out.Int(n.int_value);
      } else {
        std::string s;
        AppendShortestDouble(s, n.number);
        out.Raw(s);
      }
      return;
    case DocType::kString: out.String(doc.str(n)); return;
    case DocType::kArray:
      out.BeginArray();
      for (uint32_t i = 0; i < n.size; ++i) WriteDocNode(doc, n.first + i, out);
      out.EndArray();
      return;
    case DocType::kObject:
      out.BeginObject();
      for (uint32_t i = 0; i < n.size; ++i) {
        out.Key(doc.key(n, i));
        WriteDocNode(doc, n.first + i, out);
      }
      out.EndObject();
      return;
  }
}

std::string DocToJson(const Doc& doc) {
  JsonWriter w;
  if (!doc.empty()) WriteDocNode(doc, doc.root(), w);
  return w.Take();
}

}  // namespace preflight
