#include "engine/query/query.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/util/error.h"
#include "engine/util/json_writer.h"

namespace preflight {
namespace {

// ------------------------------------------------------------------ projection

// A trie of lower-cased key paths; `all` marks a selected (or excluded) whole value.
struct Projection {
  bool all = false;
  std::vector<std::string> keys;      // parallel to children
  std::vector<Projection> children;

  const Projection* Child(std::string_view key) const {
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) return &children[i];
    return nullptr;
  }
  void Insert(const std::vector<std::string>& path) {
    Projection* p = this;
    for (const std::string& k : path) {
      size_t i = 0;
      while (i < p->keys.size() && p->keys[i] != k) ++i;
      if (i == p->keys.size()) {
        p->keys.push_back(k);
        p->children.emplace_back();
      }
      p = &p->children[i];
    }
    p->all = true;
  }
};

absl::StatusOr<Projection> BuildProjection(const std::vector<std::string>& paths, const ResourceSchema& schema) {
  Projection root;
  for (const std::string& text : paths) {
    absl::StatusOr<PathAst> p = ParseScimPath(text);
    if (!p.ok()) return p.status();
    if (p->filter) return MakeError(ErrorCode::kInvalidPath, absl::StrCat("attribute list entries cannot hold a filter: ", text));
    root.Insert(schema.KeysOf(p->attr));
    // A bare extension URN ("urn:...:enterprise:2.0:User") names the whole extension object.
    if (!p->attr.uri.empty() && p->attr.sub.empty()) root.Insert({AsciiLower(text)});
  }
  return root;
}

bool AlwaysReturned(std::string_view lower_key) { return lower_key == "id" || lower_key == "schemas"; }

bool NeverReturned(const ResourceSchema& schema, std::string_view lower_key) {
  const AttrInfo* info = schema.Find(lower_key);
  return info && info->returned_never;
}

bool Selects(const Doc& d, uint32_t v, const Projection& p) {
  const DocNode& n = d.node(v);
  if (n.type == DocType::kArray) {
    for (uint32_t i = 0; i < n.size; ++i)
      if (Selects(d, n.first + i, p)) return true;
    return false;
  }
  if (n.type != DocType::kObject) return false;
  for (uint32_t i = 0; i < n.size; ++i) {
    const Projection* c = p.Child(d.lower_key(n, i));
    if (c && (c->all || Selects(d, n.first + i, *c))) return true;
  }
  return false;
}

void WriteIncluded(const Doc& d, uint32_t obj, const Projection& p, const ResourceSchema& schema, bool top,
                   JsonWriter& w) {
  const DocNode& n = d.node(obj);
  w.BeginObject();
  for (uint32_t i = 0; i < n.size; ++i) {
    std::string_view lk = d.lower_key(n, i);
    uint32_t v = n.first + i;
    if (top && NeverReturned(schema, lk)) continue;
    const Projection* c = p.Child(lk);
    if ((top && AlwaysReturned(lk)) || (c && c->all)) {
      w.Key(d.key(n, i));
      WriteDocNode(d, v, w);
      continue;
    }
    if (!c || !Selects(d, v, *c)) continue;
    w.Key(d.key(n, i));
    const DocNode& vn = d.node(v);
    if (vn.type == DocType::kObject) {
      WriteIncluded(d, v, *c, schema, false, w);
    } else {  // array of complex values
      w.BeginArray();
      for (uint32_t k = 0; k < vn.size; ++k)
        if (Selects(d, vn.first + k, *c)) WriteIncluded(d, vn.first + k, *c, schema, false, w);
      w.EndArray();
    }
  }
  w.EndObject();
}

void WriteExcluded(const Doc& d, uint32_t obj, const Projection& p, const ResourceSchema& schema, bool top,
                   JsonWriter& w) {
  const DocNode& n = d.node(obj);
  w.BeginObject();
  for (uint32_t i = 0; i < n.size; ++i) {
    std::string_view lk = d.lower_key(n, i);
    uint32_t v = n.first + i;
    if (top && NeverReturned(schema, lk)) continue;
    const Projection* c = top && AlwaysReturned(lk) ? nullptr : p.Child(lk);
    if (c && c->all) continue;
    w.Key(d.key(n, i));
    const DocNode& vn = d.node(v);
    if (!c) {
      WriteDocNode(d, v, w);
    } else if (vn.type == DocType::kObject) {
      WriteExcluded(d, v, *c, schema, false, w);
    } else if (vn.type == DocType::kArray) {
      w.BeginArray();
      for (uint32_t k = 0; k < vn.size; ++k) {
        if (d.node(vn.first + k).type == DocType::kObject)
          WriteExcluded(d, vn.first + k, *c, schema, false, w);
        else
          WriteDocNode(d, vn.first + k, w);
      }
      w.EndArray();
    } else {
      WriteDocNode(d, v, w);
    }
  }
  w.EndObject();
}

struct Projector {
  Projection include, exclude;
  bool has_include = false;
  void Write(const Doc& d, const ResourceSchema& schema, JsonWriter& w) const {
    if (d.empty()) {
      w.Null();
    } else if (d.node(d.root()).type != DocType::kObject) {
      WriteDocNode(d, d.root(), w);
    } else if (has_include) {
      WriteIncluded(d, d.root(), include, schema, true, w);
    } else {
      WriteExcluded(d, d.root(), exclude, schema, true, w);
    }
  }
};

absl::StatusOr<Projector> MakeProjector(const ResourceSchema& schema, const std::vector<std::string>& attributes,
                                        const std::vector<std::string>& excluded) {
  Projector p;
  p.has_include = !attributes.empty();
  absl::StatusOr<Projection> inc = BuildProjection(attributes, schema);
  if (!inc.ok()) return inc.status();
  p.include = std::move(*inc);
  if (!p.has_include) {
    absl::StatusOr<Projection> exc = BuildProjection(excluded, schema);
    if (!exc.ok()) return exc.status();
    p.exclude = std::move(*exc);
  }
  return p;
}

// ------------------------------------------------------------------ sorting

struct SortKey {
  uint8_t rank = 0;  // 0 missing, 1 boolean, 2 number, 3 dateTime, 4 string
  bool b = false;
  bool is_int = false;
  int64_t i = 0;
  double x = 0;
  DateTime t;
  std::string s;  // owned: the document may be gone by the time keys are compared
};

// The value sortBy designates: for a multi-valued attribute the primary value, else the first;
// a complex value stands for its "value" sub-attribute.
uint32_t SortValue(const Doc& d, uint32_t cur, const std::vector<std::string>& keys, size_t i) {
  const DocNode& c = d.node(cur);
  if (c.type == DocType::kArray) {
    if (c.size == 0) return Doc::kNone;
    uint32_t pick = c.first;
    for (uint32_t k = 0; k < c.size; ++k) {
      uint32_t primary = d.Find(c.first + k, "primary");
      if (primary != Doc::kNone && d.node(primary).type == DocType::kBool && d.node(primary).bool_value) {
        pick = c.first + k;
        break;
      }
    }
    return SortValue(d, pick, keys, i);
  }
  if (i == keys.size()) {
    if (c.type == DocType::kObject) {
      uint32_t v = d.Find(cur, "value");
      return v == Doc::kNone ? Doc::kNone : SortValue(d, v, keys, i);
    }
    return cur;
  }
  uint32_t v = d.Find(cur, keys[i]);
  return v == Doc::kNone ? Doc::kNone : SortValue(d, v, keys, i + 1);
}

SortKey MakeSortKey(const Doc& d, const std::vector<std::string>& keys, const AttrInfo& info) {
  SortKey k;
  if (d.empty()) return k;
  uint32_t v = SortValue(d, d.root(), keys, 0);
  if (v == Doc::kNone) return k;
  const DocNode& n = d.node(v);
  switch (n.type) {
    case DocType::kBool: k.rank = 1; k.b = n.bool_value; break;
    case DocType::kNumber: k.rank = 2; k.is_int = n.is_int; k.i = n.int_value; k.x = n.number; break;
    case DocType::kString:
      if (n.size == 0) break;
      if (info.type == AttrType::kDateTime && ParseDateTime(d.str(n), &k.t)) {
        k.rank = 3;
      } else {
        k.rank = 4;
        k.s = info.case_exact ? d.str(n) : d.lower_str(n);
      }
      break;
    default: break;
  }
  return k;
}

int CompareKeys(const SortKey& a, const SortKey& b) {
  if (a.rank != b.rank) return a.rank < b.rank ? -1 : 1;
  switch (a.rank) {
    case 1: return a.b == b.b ? 0 : (a.b ? 1 : -1);
    case 2:
      if (a.is_int && b.is_int) return a.i == b.i ? 0 : (a.i < b.i ? -1 : 1);
      return a.x == b.x ? 0 : (a.x < b.x ? -1 : 1);
    case 3: return a.t == b.t ? 0 : (a.t < b.t ? -1 : 1);
    case 4: return a.s.compare(b.s) < 0 ? -1 : (a.s == b.s ? 0 : 1);
    default: return 0;
  }
}

absl::StatusOr<QueryPage> Run(size_t n, absl::FunctionRef<const Doc&(size_t)> get, const ResourceSchema& schema,
                              const QueryOptions& o) {
  std::optional<BoundFilter> filter;
  if (!o.filter.empty()) {
    absl::StatusOr<BoundFilter> f = CompileFilter(o.filter, schema, o.parse);
    if (!f.ok()) return f.status();
    filter = std::move(*f);
  }
  absl::StatusOr<Projector> projector = MakeProjector(schema, o.attributes, o.excluded_attributes);
  if (!projector.ok()) return projector.status();

  std::vector<uint32_t> hits;
  for (size_t i = 0; i < n; ++i) {
    const Doc& d = get(i);
    if (filter) {
      BoundFilter::Result r = filter->Evaluate(d);
      if (r == BoundFilter::Result::kError) return filter->ErrorFor(d);
      if (r != BoundFilter::Result::kTrue) continue;
    }
    hits.push_back(static_cast<uint32_t>(i));
  }

  if (!o.sort_by.empty()) {
    absl::StatusOr<PathAst> p = ParseScimPath(o.sort_by);
    if (!p.ok()) return p.status();
    if (p->filter) return MakeError(ErrorCode::kInvalidPath, "sortBy cannot hold a filter");
    std::vector<std::string> keys = schema.KeysOf(p->attr);
    AttrInfo info;
    if (const AttrInfo* declared = schema.Find(ResourceSchema::Canonical(keys))) info = *declared;
    if (info.returned_never) keys.assign(1, std::string());  // sorts as if unassigned
    // The hits' keys, each with its resource's position; sorting keeps equal keys in order.
    std::vector<std::pair<SortKey, uint32_t>> sorted;
    sorted.reserve(hits.size());
    for (uint32_t h : hits) sorted.emplace_back(MakeSortKey(get(h), keys, info), h);
    const bool desc = o.descending;
    std::stable_sort(sorted.begin(), sorted.end(), [&](const auto& x, const auto& y) {
      const SortKey& a = x.first;
      const SortKey& b = y.first;
      const bool am = a.rank == 0, bm = b.rank == 0;
      if (am || bm) return am != bm && (desc ? am : bm);
      int c = CompareKeys(a, b);
      return desc ? c > 0 : c < 0;
    });
    for (size_t i = 0; i < sorted.size(); ++i) hits[i] = sorted[i].second;
  }

  const int64_t total = static_cast<int64_t>(hits.size());
  const int64_t start = std::max<int64_t>(o.start_index, 1);
  int64_t count = o.count ? std::max<int64_t>(*o.count, 0) : total;
  const int64_t first = std::min(start - 1, total);
  const int64_t items = std::min(count, total - first);

  QueryPage page;
  page.total_results = total;
  page.start_index = start;
  page.resources.reserve(static_cast<size_t>(items));
  for (int64_t i = first; i < first + items; ++i) {
    JsonWriter w;
    projector->Write(get(hits[static_cast<size_t>(i)]), schema, w);
    page.resources.push_back(w.Take());
  }
  return page;
}

}  // namespace

std::vector<std::string> SplitAttributeList(std::string_view list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(pos, comma - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    pos = comma + 1;
  }
  return out;
}

absl::StatusOr<QueryPage> RunQuery(std::span<const Doc> docs, const ResourceSchema& schema,
                                     const QueryOptions& options) {
  return Run(docs.size(), [&](size_t i) -> const Doc& { return docs[i]; }, schema, options);
}

absl::StatusOr<QueryPage> RunQuery(std::span<const Doc* const> docs, const ResourceSchema& schema,
                                     const QueryOptions& options) {
  return Run(docs.size(), [&](size_t i) -> const Doc& { return *docs[i]; }, schema, options);
}

absl::StatusOr<QueryPage> RunQuery(size_t n, absl::FunctionRef<const Doc&(size_t)> doc, const ResourceSchema& schema,
                                   const QueryOptions& options) {
  return Run(n, doc, schema, options);
}

absl::StatusOr<std::string> ProjectDoc(const Doc& doc, const ResourceSchema& schema,
                                       const std::vector<std::string>& attributes,
                                       const std::vector<std::string>& excluded_attributes) {
  absl::StatusOr<Projector> p = MakeProjector(schema, attributes, excluded_attributes);
  if (!p.ok()) return p.status();
  JsonWriter w;
  p->Write(doc, schema, w);
  return w.Take();
}

}  // namespace preflight
