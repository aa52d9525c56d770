// The SCIM JSON reader (engine/codecs/snapshot_scim.cc): read with On-Demand, it gives
// exactly what the DOM reader gives (ReadScimJsonDom) — the same objects, diagnostics
// and query documents for a valid file, and for a broken one (truncated anywhere, a byte
// changed anywhere, nested too deep) the same refusal with the same message.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "engine/codecs/scim_stream.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/codecs/snapshot_sources_internal.h"
#include "engine/load/deferred_hash.h"
#include "engine/load/snapshot_builder.h"
#include "engine/load/source_hash.h"
#include "simdjson.h"

using namespace preflight;

namespace {

std::string Text(const Location& l) { return absl::StrCat(l.ToString(), "@", l.offset); }

std::string Dump(const std::vector<AttributeObject>& attributes) {
  std::string out;
  auto append = [](std::string* to, std::string_view v) { absl::StrAppend(to, "'", ToAbsl(v), "'"); };
  for (const auto& a : attributes)
    absl::StrAppend(&out, a.name, a.multi ? "*=" : "=", absl::StrJoin(a.values, "|", append), ";");
  return out;
}

std::string Dump(const AccountObject& a) {
  return absl::StrCat("account ", a.from_scim, " ", a.id, "|", a.identity, "|", a.application, "|", a.instance, "|",
                      a.native_identity, "|", a.display_name, " ", a.disabled, a.locked, " ", Text(a.where), " ",
                      Dump(a.attributes), "\n");
}

// A query document as the query stage reads it: its values (re-serialized from a DOM).
std::string Values(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e)) return "unparsable: " + json;
  return simdjson::minify(e);
}

// Everything the SCIM reader sets, in order.
std::string Dump(const SnapshotObjects& o) {
  std::string out;
  for (const auto& a : o.applications)
    absl::StrAppend(&out, "app ", a.from_scim, " ", a.name, "|", a.id, "|", a.type, " ", Text(a.where), "\n");
  for (const auto& r : o.roles)
    absl::StrAppend(&out, "role ", r.from_scim, " ", r.name, "|", r.id, "|", r.display_name, "|", r.type, " ",
                    r.disabled, " ", absl::StrJoin(r.inheritance, ","), " ", absl::StrJoin(r.requirements, ","), " ",
                    absl::StrJoin(r.permits, ","), " ", Text(r.where), "\n");
  for (const auto& i : o.identities) {
    absl::StrAppend(&out, "identity ", i.from_scim, " ", i.name, "|", i.id, "|", i.display_name, " ", i.inactive, " ",
                    absl::StrJoin(i.assigned_roles, ","), " ", absl::StrJoin(i.detected_roles, ","), " ",
                    absl::StrJoin(i.account_ids, ","), " ", Text(i.where), " ", Dump(i.attributes), "\n");
    for (const auto& a : i.accounts) absl::StrAppend(&out, "  ", Dump(a));
  }
  for (const auto& a : o.accounts) absl::StrAppend(&out, Dump(a));
  for (const auto& e : o.entitlements)
    absl::StrAppend(&out, "entitlement ", e.from_scim, " ", e.id, "|", e.application, "|", e.attribute, "|", e.value,
                    "|", e.display_name, "|", e.type, " ", e.requestable, " ", Text(e.where), "\n");
  for (const auto& d : o.diagnostics)
    absl::StrAppend(&out, "diagnostic ", static_cast<int>(d.severity), " ", static_cast<int>(d.code), " ", d.object,
                    ": ", d.message, " at ", Text(d.where), "\n");
  o.scim_documents.ForEach([&](std::string_view type, std::string_view json) {
    absl::StrAppend(&out, "document ", ToAbsl(type), " ", Values(std::string(json)), "\n");
  });
  return out;
}

std::string StatusText(const absl::Status& s) {
  return absl::StrCat(static_cast<int>(ErrorCodeOf(s)), " ", s.message(), " ", Text(LocationOf(s)));
}

bool Read(const std::string& dump) { return dump.rfind(StatusText(absl::OkStatus()) + "\n", 0) == 0; }

// A file of its own, removed afterwards: in memory where there is a memory file system
// (a test writes it again for each of thousands of texts).
struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& name)
      : path((std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                        : std::filesystem::temp_directory_path()) /
             name) {}
  ~TempFile() { std::filesystem::remove(path); }
  void Write(const std::string& text) const { std::ofstream(path, std::ios::binary | std::ios::trunc) << text; }
};

// What ReadScimJsonFile reads of `text` written to a file (its name in the dump x.json).
std::string ReadFromFile(const std::string& text, const Limits& limits, bool pack = false) {
  static const TempFile file(absl::StrCat("preflight-scim-file-test-", getpid(), ".json"));  // tests run in parallel
  file.Write(text);
  SnapshotObjects objects;
  snapshot_sources_internal::ScimParsers parsers;
  absl::Status status = ReadScimJsonFile(parsers, file.path.string(), objects, limits, pack);
  if (pack) UnpackIdentities(objects);
  return absl::StrReplaceAll(absl::StrCat(StatusText(status), "\n", Dump(objects)), {{file.path.string(), "x.json"}});
}

// ReadScimJson, the same text read from a file a block at a time (ReadScimJsonFile), and
// the DOM reader: the same status, objects, diagnostics and documents. Returns the status
// and the dump.
std::string SameAsDom(const std::string& text, const Limits& limits = DefaultLimits()) {
  SnapshotObjects on_demand, dom;
  absl::Status a = ReadScimJson(text, "x.json", on_demand, limits);
  absl::Status b = ReadScimJsonDom(text, "x.json", dom, limits);
  std::string dump = absl::StrCat(StatusText(a), "\n", Dump(on_demand));
  CHECK(dump == absl::StrCat(StatusText(b), "\n", Dump(dom)));
  CHECK(dump == ReadFromFile(text, limits));
  return dump;
}

constexpr char kUser[] = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr char kExtension[] = "urn:ietf:params:scim:schemas:sailpoint:1.0:User";

// Every shape the reader reads, and the ones it skips or reports.
std::vector<std::string> Resources() {
  return {
      absl::StrCat(R"({"schemas":[")", kUser, R"(",")", kExtension, R"("],"id":"u1","userName":"jane",)",
                   R"("userName":"second","displayName":"Jane \"J\" D\u00e9 \/ x","active":"no","active":false,)",
                   R"("name":{"givenName":"Jane","familyName":"D\n","n":null},"emails":[{"value":"j@x"},{"type":"w"},)",
                   R"(null,7,-0,1.5,1e2,-12,18446744073709551615,9223372036854775808,true],"score":-3.25e-7,)",
                   R"("age":42,"ok":true,"nothing":null,"obj":{"value":"v"},"empty":[],)",
                   R"("meta":{"resourceType":"User"},")", kExtension, R"(":{"roles":[{"display":"R1","acquired":)",
                   R"("Detected"},{"display":"R2","value":"detectedRoles"},{"display":"R3","value":"assignedRoles"},)",
                   R"({"value":"x"}],"accounts":[{"value":"a1"},{"value":""},{}],"entitlements":[{"application":)",
                   R"("AD","accountName":"jd","value":"groups","display":"G1"},{"application":"AD","accountName":)",
                   R"("jd","value":"groups","display":"G2"},{"application":"LDAP","value":"memberOf","display":)",
                   R"("M"},{"value":"x"}],"department":"Sales","levels":[1,2]},")", kExtension, R"(":{"x":1}})"),
      absl::StrCat(R"({"schemas":[")", kUser, R"("],"userName":"bob","name":"Bob Scalar","active":true})"),
      absl::StrCat(R"({"schemas":[")", kUser, R"("],"id":"nameless"})"),
      R"({"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Account"],"id":"a1","nativeIdentity":"CN=J",)"
      R"("displayName":"jd","instance":"i1","application":{"value":"app1","displayName":"AD"},)"
      R"("identity":{"value":"u1"},"locked":true,"active":false,)"
      R"("urn:ietf:params:scim:schemas:sailpoint:1.0:Application:Schema:AD:account":{"memberOf":["g1","g2"],)"
      R"("mail":"j@x","n":null},"urn:ietf:params:scim:schemas:sailpoint:1.0:Application:Schema:AD:x":"scalar"})",
      R"({"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Account"],"id":"a2","application":{"value":""}})",
      R"({"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Entitlement"],"id":"e1","application":)"
      R"({"value":"app1"},"attribute":"memberOf","value":"g1","displayableName":"G 1","type":"group",)"
      R"("requestable":false})",
      R"({"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Role"],"id":"r1","name":"R1","type":)"
      R"({"name":"it"},"active":false,"inheritance":[{"displayName":"B"},{"display":"C"},{"value":"D"},{}],)"
      R"("requirements":[{"value":"R2"}],"permits":"none"})",
      R"({"meta":{"resourceType":"Role"},"name":"R2","type":3.0})",
      R"({"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Role"],"type":true})",
      R"({"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Application"],"id":"app1","name":"AD",)"
      R"("type":"Active Directory"})",
      R"({"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Application"],"id":"app2"})",
      R"({"schemas":["urn:example:Other"],"id":"o"})",
      R"(["not","an","object"])",
      R"("text")",
  };
}

// A ListResponse of `resources`, joined by `comma`, its array opened by `open` and closed by `close`.
std::string Export(const std::vector<std::string>& resources, std::string_view open = "[",
                   std::string_view comma = ",\n ", std::string_view close = "]") {
  return absl::StrCat(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":)",
                      resources.size(), R"(,"Resources":)", ToAbsl(open), absl::StrJoin(resources, ToAbsl(comma)),
                      ToAbsl(close), R"(,"Resources":"the first one counts","startIndex":1})");
}
std::string Export() { return Export(Resources()); }

// The resources that are objects laid out as `snapshot pull` writes its pages, which the reader
// reads a line at a time: the envelope's head on the first line, one resource a line,
// the array closed at the start of the last.
std::string Lines(std::vector<std::string> resources = Resources()) {
  std::erase_if(resources, [](const std::string& r) { return r[0] != '{'; });
  return Export(resources, "[\n", ",\n", "\n]");
}

// `text` as pretty-printers lay JSON out, more or less: a line's end and an indent after
// every comma and opening brace (within strings too: the same JSON as read whole either way).
std::string Indented(const std::string& text) {
  return absl::StrReplaceAll(text, {{",", ",\n    "}, {"{", "{\n  "}, {":[", ": [\n\t"}});
}

// A ListResponse of the `resources` that are objects, pretty-printed (Indented).
std::string Pretty(std::vector<std::string> resources = Resources()) {
  std::erase_if(resources, [](const std::string& r) { return r[0] != '{'; });
  return Indented(Export(resources));
}

}  // namespace

TEST_CASE("SCIM reader: every shape reads as with the DOM", "[snapshot][scim]") {
  const std::string text = Export();
  std::string dump = SameAsDom(text);
  INFO(dump);
  CHECK(Read(dump));
  CHECK(dump.find("identity 1 jane|u1|Jane \"J\" D\xC3\xA9 / x 0 R3 R1,R2 a1 x.json at /Resources/0@-1") !=
        std::string::npos);
  CHECK(dump.find("emails*='j@x'|'7'|'0'|'1.5'|'100.0'|'-12'|'18446744073709551615'|'9223372036854775808'|'true';") !=
        std::string::npos);
  CHECK(dump.find("diagnostic 0 0 User[nameless]: User without a userName is skipped") != std::string::npos);
  CHECK(dump.find("a SCIM resource must be a JSON object at x.json at /Resources/12@-1") != std::string::npos);

  SECTION("one resource a line, read a line at a time: as the same resources read whole") {
    std::vector<std::string> objects = Resources();
    std::erase_if(objects, [](const std::string& r) { return r[0] != '{'; });
    const std::string lines = SameAsDom(Lines());
    CHECK(Read(lines));
    CHECK(lines == SameAsDom(Export(objects, "[", ",")));
    CHECK(SameAsDom(Export(objects, "[\r\n\t", " \t,\r\n\n", " \r\n\t]")) == lines);  // blanks around them
    CHECK(Read(SameAsDom(Export({}, "[\n", ",\n", "\n]"))));  // no resources
  }
  SECTION("the other layouts: a root array, one resource, blanks between the tokens") {
    std::string array = absl::StrCat("[", text.substr(text.find("[{") + 1));
    array = array.substr(0, array.find("],\"Resources\":\"the")) + "]";
    CHECK(Read(SameAsDom(array)));
    CHECK(SameAsDom(absl::StrCat(R"({"schemas":[")", kUser, R"("],"userName":"solo","Resources":{"a":1}})"))
              .find("identity 1 solo") != std::string::npos);
    std::string pretty;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '"' && text[i - 1] != '\\') in_string = !in_string;
      pretty += text[i];
      if (!in_string && (text[i] == ',' || text[i] == ':' || text[i] == '{' || text[i] == '[')) pretty += "\n\t ";
    }
    CHECK(Read(SameAsDom(" \n" + pretty + "\r\n")));
  }
  SECTION("a resource's query document is its own text, minified") {
    SnapshotObjects objects;
    REQUIRE(ReadScimJson(absl::StrCat(R"({"Resources":[ {"schemas": [")", kUser, R"("], "userName" : "a\/b"} ]})"),
                         "x.json", objects)
                .ok());
    REQUIRE(objects.scim_documents.size() == 1);
    std::vector<std::string> texts;
    objects.scim_documents.ForEach([&](std::string_view type, std::string_view json) {
      CHECK(type == "Users");
      texts.emplace_back(json);
    });
    CHECK(texts == std::vector<std::string>{absl::StrCat(R"({"schemas":[")", kUser, R"("],"userName":"a\/b"})")});
  }
}

TEST_CASE("SCIM reader: a file broken anywhere is refused as with the DOM", "[snapshot][scim]") {
  const std::string text = GENERATE(Export(), Lines());
  int refused = 0;
  for (size_t size = 0; size < text.size(); ++size) {
    INFO("truncated to " << size << " bytes");
    refused += !Read(SameAsDom(text.substr(0, size)));
  }
  CHECK(refused == static_cast<int>(text.size()));  // a prefix is never a whole document
  // A NUL too: never JSON (fuzzing found NULs after the line layout's head read as blanks).
  for (char c : std::string(",:[]{}\"\\x0- \x01\xC3\0", 15)) {
    for (size_t at = 0; at < text.size(); ++at) {
      std::string changed = text;
      changed[at] = c;
      INFO("byte " << at << " changed to " << static_cast<int>(c));
      SameAsDom(changed);
    }
  }
  for (size_t at = 0; at <= text.size(); ++at) {
    INFO("NULs inserted at " << at);
    SameAsDom(std::string(text).insert(at, std::string(3, '\0')));
  }
  CHECK_FALSE(Read(SameAsDom(text + "]")));  // text after the root
  CHECK_FALSE(Read(SameAsDom(text + " {}")));
  CHECK(SameAsDom("\xEF\xBB\xBF" + text).size() > 0);  // a byte-order mark: whatever the DOM says
}

TEST_CASE("SCIM reader: nesting at and past the budget, as with the DOM", "[snapshot][scim]") {
  Limits limits;
  limits.max_nesting_depth = 12;
  for (int depth = 1; depth <= 16; ++depth) {
    INFO("nesting " << depth);
    std::string deep = std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']');
    SameAsDom(absl::StrCat(R"({"Resources":[{"schemas":[")", kUser, R"("],"userName":"d","x":)", deep, "}]}"), limits);
    SameAsDom(absl::StrCat(R"({"schemas":[")", kUser, R"("],"userName":"d","x":)", deep, "}"), limits);
  }
}

TEST_CASE("SCIM reader: an export packed every few megabytes as it is read gives the same objects", "[snapshot][scim]") {
  // Users and Accounts interleaved, about 40 MB: read packed, it makes several chunks.
  std::vector<std::string> resources;
  for (int i = 0; i < 12000; ++i) {
    resources.push_back(absl::StrCat(R"({"schemas":[")", kUser, R"(",")", kExtension, R"("],"id":"u)", i,
                                     R"(","userName":"user)", i, R"(","title":")", std::string(2800, 't'), R"(",")",
                                     kExtension, R"(":{"entitlements":[{"application":"AD","accountName":"a)", i,
                                     R"(","value":"groups","display":"g)", i % 7, R"("}]}})"));
    resources.push_back(absl::StrCat(R"({"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Account"],"id":"a)",
                                     i, R"(","nativeIdentity":"n)", i, R"(","application":{"displayName":"LDAP"},)",
                                     R"("identity":{"value":"u)", i, R"("}})"));
  }
  // A line longer than a block read from a file (which grows the reader's buffer).
  resources.push_back(absl::StrCat(R"({"schemas":[")", kUser, R"("],"userName":"long","title":")",
                                   std::string(kFileBlockBytes * 2 + 5, 'l'), R"("})"));
  // On one line, or one resource a line (read a line at a time).
  const bool lines = GENERATE(false, true);
  const std::string text = lines ? absl::StrCat("{\"Resources\":[\n", absl::StrJoin(resources, ",\n"), "\n]}")
                                 : absl::StrCat(R"({"Resources":[)", absl::StrJoin(resources, ","), "]}");
  REQUIRE(text.size() > 36u << 20);
  SnapshotObjects packed, dom;
  snapshot_sources_internal::ScimParsers parsers;
  REQUIRE(snapshot_sources_internal::ReadScimJson(parsers, text, "x.json", packed, DefaultLimits(), false, true).ok());
  // A resource at a time (a line's, or found by its braces on the one line), the parser's
  // buffers are a resource's, not the whole file's.
  CHECK(parsers.on_demand.capacity() < (1u << 20));
  CHECK(packed.identity_chunks.size() >= 3);
  CHECK(packed.identities.empty());
  UnpackIdentities(packed);
  REQUIRE(ReadScimJsonDom(text, "x.json", dom).ok());
  CHECK(packed.identities.size() == 12001);
  CHECK(packed.accounts.size() == 12000);
  CHECK(Dump(packed) == Dump(dom));
  // From a file a block at a time (its lines across blocks): the same.
  CHECK(ReadFromFile(text, DefaultLimits(), true) == absl::StrCat(StatusText(absl::OkStatus()), "\n", Dump(dom)));
}

TEST_CASE("SCIM reader: a file read by its worker must be the one the loader hashed", "[snapshot][scim][load]") {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / absl::StrCat("preflight-scim-stamp-", getpid(), ".json");
  auto write = [&](const std::string& text) { std::ofstream(path, std::ios::binary | std::ios::trunc) << text; };
  auto read = [&](const FileStamp* stamp) {
    SnapshotObjects objects;
    snapshot_sources_internal::ScimParsers parsers;
    return ReadScimJsonFile(parsers, path.string(), objects, DefaultLimits(), false, stamp);
  };
  auto hash = [&](FileStamp& stamp) {
    std::string buffer;
    return ReadBlocks(path.string(), buffer, [](uint64_t) {}, [](std::string_view) {}, &stamp);
  };
  const std::string lines = Lines();
  std::string same_size = lines;
  same_size[same_size.rfind("u1")] = 'v';  // another resource id, the same size
  REQUIRE(same_size != lines);
  const std::string whole = Export();  // not in lines: the fallback reads it whole
  for (const std::string& first : {lines, whole}) {
    write(first);
    FileStamp stamp;
    REQUIRE(hash(stamp).ok());
    CHECK(stamp.size == first.size());
    CHECK(read(&stamp).ok());  // unchanged: read as hashed
    CHECK(read(nullptr).ok());
    // Rewritten in place at the same size, or replaced by another file under the name:
    // refused, never parsed as if it were the content hashed.
    for (bool replace : {false, true}) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a later modification time
      if (replace) {
        const std::filesystem::path other = path.string() + ".new";
        std::ofstream(other, std::ios::binary) << first;
        std::filesystem::rename(other, path);
      } else {
        write(first == lines ? same_size : first);
      }
      absl::Status changed = read(&stamp);
      CHECK(ErrorCodeOf(changed) == ErrorCode::kInvalidValue);
      CHECK(StatusText(changed).find("the file changed between its hash and its reading; load the snapshot again") !=
            std::string::npos);
      CHECK(read(nullptr).ok());  // without a stamp, nothing to compare
      REQUIRE(hash(stamp).ok());   // hashed again: read again
      CHECK(read(&stamp).ok());
    }
  }
  std::filesystem::remove(path);
}

TEST_CASE("SCIM reader: exports in lines are loaded a block at a time, as read whole", "[snapshot][scim][load]") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / absl::StrCat("preflight-scim-blocks-", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::string> users;
  for (int i = 0; i < 3000; ++i)
    users.push_back(absl::StrCat(R"({"schemas":[")", kUser, R"("],"id":"u)", i, R"(","userName":"user)", i,
                                 R"(","title":")", std::string(static_cast<size_t>(i % 500), 't'), R"("})"));
  files.emplace_back("a-lines.json", Lines(users));                        // ~1 MB: lines across blocks
  files.emplace_back("b-lines.json", Lines());                             // every shape
  files.emplace_back("c-whole.json", Export());                            // several lines, not the layout
  files.emplace_back("d-broken.json", Lines(users).substr(0, 500000));     // lines, then cut: refused whole
  // The line layout's head, then two resources on a line: read whole.
  files.emplace_back("e-head.json", absl::StrCat(Lines().substr(0, Lines().find('\n') + 1), users[0], ",", users[1], "]}"));
  files.emplace_back("f-pretty.json", Pretty(users));                     // pretty-printed
  files.emplace_back("g-one-line.json", Export(Resources(), "[", ","));  // one line: read whole
  SnapshotBuilder whole;  // each text given whole, not read from a file
  for (const auto& [name, text] : files) {
    std::ofstream(dir / name, std::ios::binary) << text;
    (void)whole.AddText(text, (dir / name).string());
  }
  CHECK(ScimExportInLines((dir / "a-lines.json").string()));
  CHECK(ScimExportInLines((dir / "d-broken.json").string()));
  CHECK(ScimExportInLines((dir / "c-whole.json").string()));
  CHECK(ScimExportInLines((dir / "f-pretty.json").string()));
  CHECK_FALSE(ScimExportInLines((dir / "g-one-line.json").string()));
  CHECK_FALSE(ScimExportInLines((dir / "missing.json").string()));
  UnpackIdentities(whole.objects());
  const std::string expected = Dump(whole.objects());
  CHECK(expected.find("d-broken.json: malformed JSON") != std::string::npos);  // refused whole, as a diagnostic
  auto reference = whole.Build();
  REQUIRE(reference.ok());
  for (int threads : {1, 2}) {
    LoadOptions options;
    options.threads = threads;
    SnapshotBuilder blocks(options);
    REQUIRE(blocks.AddPath(dir.string()).ok());
    UnpackIdentities(blocks.objects());
    CHECK(Dump(blocks.objects()) == expected);
    CHECK(blocks.objects().identities.size() == 2 * 3000 + 2 * 4);
    auto built = blocks.Build();
    REQUIRE(built.ok());
    CHECK((*built)->source_hash() == (*reference)->source_hash());
  }
  // The hash read a block at a time is the text's.
  for (const auto& [name, text] : files) {
    SourceHash blocks, whole_text;
    std::string buffer;
    REQUIRE(ReadBlocks((dir / name).string(), buffer, [&](uint64_t size) { blocks.Start(size); },
                       [&](std::string_view b) { blocks.Part(b); })
                .ok());
    whole_text.Add(text);
    CHECK(blocks.value() == whole_text.value());
  }
  std::string buffer;
  CHECK(StatusText(ReadBlocks((dir / "missing.json").string(), buffer, [](uint64_t) {}, [](std::string_view) {}))
            .find("cannot open file") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("DeferredHash: files hashed later, texts in between, the same hash as in order", "[snapshot][scim][load]") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / absl::StrCat("preflight-deferred-", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string a = Lines(), b(300000, 'b'), small = "small text", large(17 << 20, 'L');  // large: past a copy
  std::ofstream(dir / "a", std::ios::binary) << a;
  std::ofstream(dir / "b", std::ios::binary) << b;
  SourceHash in_order;
  for (const std::string* text : {&small, &a, &small, &b, &large, &small}) in_order.Add(*text);
  auto stamp = [&](const char* name) {
    FileStamp s;
    REQUIRE(StampFile((dir / name).string(), s).ok());
    return s;
  };
  for (bool start : {false, true}) {
    DeferredHash hash;
    hash.AddText(small);  // nothing pending: at once
    hash.AddFile((dir / "a").string(), stamp("a"));
    hash.AddText(small);  // copied, after a
    if (start) hash.Start();
    hash.AddFile((dir / "b").string(), stamp("b"));
    hash.AddText(large);  // a and b hashed first
    hash.AddText(small);
    absl::StatusOr<SourceHash> got = hash.Finish();
    REQUIRE(got.ok());
    CHECK(got->value() == in_order.value());
  }
  // A file changed after its stamp was taken (as its worker parsed it): an error, not a hash.
  {
    DeferredHash hash;
    const FileStamp before = stamp("b");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a later modification time
    std::ofstream(dir / "b", std::ios::binary | std::ios::trunc) << std::string(300000, 'c');
    hash.AddFile((dir / "b").string(), before);
    hash.Start();
    absl::StatusOr<SourceHash> got = hash.Finish();
    CHECK(ErrorCodeOf(got.status()) == ErrorCode::kInvalidValue);
    CHECK(StatusText(got.status()).find("the file changed while the snapshot was loaded") != std::string::npos);
  }
  FileStamp none;
  CHECK(StatusText(StampFile((dir / "missing").string(), none)).find("cannot open file") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("SCIM reader: a build's diagnostic names the resource's place in its export", "[snapshot][scim]") {
  // Users and Accounts keep their place as the file and the item's index, made into the
  // pointer only when a diagnostic needs it: the same text as any other object's.
  const std::vector<std::string> resources = {
      absl::StrCat(R"({"schemas":[")", kUser, R"("],"userName":"ok"})"),
      absl::StrCat(R"({"schemas":[")", kUser, R"(",")", kExtension, R"("],"userName":"jane",")", kExtension,
                   R"(":{"roles":[{"display":"Ghost","acquired":"Assigned"}]}})"),
      R"({"schemas":["urn:ietf:params:scim:schemas:sailpoint:1.0:Account"],"id":"a1","nativeIdentity":"n1",)"
      R"("application":{"displayName":"NoApp"},"identity":{"value":"jane"}})",
  };
  for (const std::string& text : {Export(resources), Lines(resources)}) {
    SnapshotBuilder b;
    REQUIRE(b.AddText(text, "users.json").ok());
    auto s = b.Build();
    REQUIRE(s.ok());
    std::vector<std::string> diagnostics;
    for (const Diagnostic& d : (*s)->diagnostics())
      diagnostics.push_back(absl::StrCat(d.where.file, " ", d.where.pointer, " ", d.where.line, " ", d.where.offset,
                                         " ", d.object, ": ", d.message));
    CHECK(diagnostics == std::vector<std::string>{
                             "users.json /Resources/1 0 -1 Identity[jane]: unknown role 'Ghost'",
                             "users.json /Resources/2 0 -1 Link[n1]: application 'NoApp' is not defined in the snapshot",
                         });
  }
}

TEST_CASE("SCIM reader: exports laid out other ways are read a resource at a time, as with the DOM", "[snapshot][scim]") {
  std::vector<std::string> objects = Resources();
  std::erase_if(objects, [](const std::string& r) { return r[0] != '{'; });
  const std::string braces = absl::StrCat(R"({"schemas":[")", kUser, R"("],"userName":"b","title":"a}b{\"c\"]\\",)",
                                          R"("x":[{"y":"]"}]})");
  objects.push_back(braces);
  const std::vector<std::string> texts = {
      Pretty(),                                                             // a resource over several lines
      Indented(Export(objects)),                                            // its strings with braces
      Export(objects, "[\n", ", "),                                         // several resources a line
      absl::StrReplaceAll(Pretty(), {{"\n", "\r\n"}}),                      // CRLF
      Export(objects, "[", ",\n", "]"),                                     // the head and the first on a line
      absl::StrCat("{\"Re\\u0073ources\":\n[", objects[0], "],\"Resources\":[]}"),  // an escaped key: whole
      absl::StrCat("{\"Resources\":\"x\",\n\"Resources\":[", objects[0], "]}"),  // the first not an array
      absl::StrCat("{\"a\":{\"Resources\":[1]},\n\"Resources\":[", objects[0], "]}"),  // nested first
      absl::StrCat("{\"Resources\":[\n", objects[0], ",\n]}"),              // a comma after the last
      absl::StrCat("{\"Resources\":[\n", objects[0], "\n", objects[1], "]}"),  // no comma between two
      absl::StrCat("{\"Resources\":[\n", objects[0], ",\n", "7]}"),           // an item not an object
      absl::StrCat("{\"Resources\":[\n]\n}"),                                // none
      absl::StrCat("{\"Resources\":[\n", objects[0], "]}\n{}"),              // something after it
      absl::StrCat("{\"Resources\":[\n", objects[0], ",{\"a\":\"\n\"}]}"),  // a line's end in a string
  };
  for (const std::string& text : texts) {
    INFO(text);
    std::string dump = SameAsDom(text);
    // Each one cut short, and each of a few bytes changed, the same as with the DOM.
    for (size_t cut = 0; cut < text.size(); cut += 1 + text.size() / 97) SameAsDom(text.substr(0, cut));
    for (size_t at = 0; at < text.size(); at += 1 + text.size() / 61)
      for (char c : {'{', '}', '"', '\\', ',', '\n', ']'}) {
        std::string changed = text;
        changed[at] = c;
        SameAsDom(changed);
      }
  }
  // Read so, every resource of the pretty-printed export is read: the same as in lines.
  CHECK(SameAsDom(Pretty()) == SameAsDom(Lines()));
}
