// Reading sources (engine/codecs/snapshot_sources.h) and adding them (SnapshotBuilder):
// the object-by-object XML reader gives exactly what one DOM of the whole file gives,
// objects and diagnostics with their locations; files parsed in parallel are added in
// order, as one by one; progress is reported as the load goes.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/codecs/snapshot_sources_internal.h"
#include "engine/load/build_context.h"
#include "engine/load/snapshot_builder.h"
#include "engine/model/snapshot.h"
#include "engine/util/file.h"

using namespace preflight;

namespace {

std::string Where(const Location& l) { return absl::StrCat(l.ToString(), "@", l.offset); }

std::string Dump(const FilterObject& f) {
  std::string out = absl::StrCat(f.op, " ", f.property, "=", absl::StrJoin(f.values, "|"), f.ignore_case, f.match_mode);
  for (const auto& c : f.children) absl::StrAppend(&out, "(", Dump(c), ")");
  return out;
}

std::string Dump(const std::vector<AttributeObject>& attrs) {
  std::string out;
  auto append = [](std::string* to, std::string_view v) { to->append(v); };
  for (const auto& a : attrs)
    absl::StrAppend(&out, a.name, a.multi ? "*=" : "=", absl::StrJoin(a.values, "|", append), ";");
  return out;
}

std::string Dump(const AccountObject& a) {
  return absl::StrCat("account ", a.id, " ", a.identity, " ", a.application, " ", a.native_identity, " ",
                      a.display_name, " ", a.disabled, a.locked, " ", Where(a.where), " ", Dump(a.attributes), "\n");
}

// Every object the readers produce, with its location, and every diagnostic, in order.
std::string Dump(const SnapshotObjects& o) {
  std::string out;
  for (const auto& a : o.applications)
    absl::StrAppend(&out, "app ", a.name, " ", a.type, " ", a.case_insensitive, " ", a.account_schema.size(), " ",
                    Where(a.where), "\n");
  for (const auto& r : o.roles) {
    absl::StrAppend(&out, "role ", r.name, " ", r.type, " ", absl::StrJoin(r.inheritance, ","), " ",
                    absl::StrJoin(r.requirements, ","), " ", r.description, " ", Where(r.where), "\n");
    for (const auto& p : r.profiles)
      for (const auto& f : p.constraints) absl::StrAppend(&out, "  profile ", p.application, " ", Dump(f), "\n");
  }
  for (const auto& p : o.policies) {
    absl::StrAppend(&out, "policy ", p.name, " ", p.state, " ", p.description.value_or("-"), " ", Where(p.where), "\n");
    for (const auto& c : p.constraints)
      absl::StrAppend(&out, "  constraint ", c.name, " ", absl::StrJoin(c.left_roles, ","), " ",
                      absl::StrJoin(c.right_roles, ","), " ", c.selectors.size(), " ", Where(c.where), "\n");
  }
  for (const auto& i : o.identities) {
    absl::StrAppend(&out, "identity ", i.name, " ", i.id, " ", i.inactive, " ", absl::StrJoin(i.assigned_roles, ","),
                    " ", absl::StrJoin(i.detected_roles, ","), " ", Where(i.where), " ", Dump(i.attributes), "\n");
    for (const auto& a : i.accounts) absl::StrAppend(&out, "  ", Dump(a));
  }
  for (const auto& a : o.accounts) absl::StrAppend(&out, Dump(a));
  for (const auto& e : o.entitlements)
    absl::StrAppend(&out, "entitlement ", e.application, " ", e.attribute, "=", e.value, " ", Where(e.where), "\n");
  for (const auto& g : o.populations)
    absl::StrAppend(&out, "population ", g.name, " ", g.filter ? Dump(*g.filter) : "-", " ", Where(g.where), "\n");
  for (const auto& a : o.identity_attributes) absl::StrAppend(&out, "identity attribute ", a.name, a.multi, "\n");
  for (const auto& t : o.role_types) absl::StrAppend(&out, "role type ", t.name, t.no_detection, "\n");
  for (const auto& d : o.diagnostics)
    absl::StrAppend(&out, "diagnostic ", static_cast<int>(d.severity), " ", static_cast<int>(d.code), " ", d.object,
                    ": ", d.message, " at ", Where(d.where), "\n");
  return out;
}

std::string StatusText(const absl::Status& s) {
  return absl::StrCat(static_cast<int>(ErrorCodeOf(s)), " ", s.message(), " ", Where(LocationOf(s)));
}

// ReadIiqXml and the whole-document reader on the same text: the same status, objects
// and diagnostics. Returns the dump, for tests that also check what was read.
std::string SameAsWhole(const std::string& text, const std::string& name = "x.xml") {
  SnapshotObjects chunked, whole;
  absl::Status a = ReadIiqXml(text, name, chunked);
  absl::Status b = ReadIiqXmlWhole(text, name, whole);
  INFO(name);
  CHECK(StatusText(a) == StatusText(b));
  std::string dump = Dump(chunked);
  CHECK(dump == Dump(whole));
  return a.ok() ? dump : StatusText(a);
}

constexpr char kExport[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE sailpoint PUBLIC "sailpoint.dtd" "sailpoint.dtd">
<!-- exported <sailpoint> -->
<sailpoint>
  <Application name="AD" type="Active Directory - Direct"/>
  <!-- a comment with <Identity name="ghost"> in it -->
  <Bundle name="Admin-IT" type="it"><Description><![CDATA[</Bundle> is not the end <here>]]></Description>
    <Profiles><Profile><ApplicationRef><Reference name="AD"/></ApplicationRef>
      <Constraints><Filter operation="EQ" property="groups" value="a>b/>"/></Constraints></Profile></Profiles></Bundle>
  <Identity name="fay" displayName='Fay "F" &lt;x&gt;'><?pi inside ?><Bundles><Reference name="Admin-IT"/></Bundles><Links>
    <Link nativeIdentity="CN=Fay"><ApplicationRef><Reference name="AD"/></ApplicationRef></Link>
    <Link nativeIdentity="no-app"/>
  </Links></Identity><Identity displayName="nameless"/>
  <Identity
     name="gus"><!-- </Identity> --></Identity>
  <ImportAction name="x"/>
  <Link nativeIdentity="orphan"><ApplicationRef><Reference name="AD"/></ApplicationRef></Link>
  <Policy name="SOD" state="Active"><SODConstraints><SODConstraint name="c1"><LeftBundles><Reference name="Admin-IT"/></LeftBundles></SODConstraint></SODConstraints></Policy>
</sailpoint>
)";

}  // namespace

TEST_CASE("xml: an export read object by object is what the whole document gives", "[load][xml]") {
  std::string dump = SameAsWhole(kExport);
  // It was read, with the locations of the objects and of the problems.
  CHECK(dump.find("identity fay") != std::string::npos);
  CHECK(dump.find("identity gus") != std::string::npos);
  CHECK(dump.find("ghost") == std::string::npos);
  CHECK(dump.find("Identity without a name is skipped at x.xml:line 13, column 23 at Identity@") != std::string::npos);
  CHECK(dump.find("Link without an application is skipped at x.xml:line 12, column 6 at Identity[fay]@") !=
        std::string::npos);
  CHECK(dump.find("x.xml:line 14, column 4 at Identity[gus]@") != std::string::npos);
}

TEST_CASE("xml: exports of other shapes and broken exports give the whole document's answer", "[load][xml]") {
  std::string text = kExport;
  auto with = [&](const std::string& from, const std::string& to) {  // the first `from` replaced
    std::string out = text;
    size_t at = out.find(from);
    REQUIRE(at != std::string::npos);
    return out.replace(at, from.size(), to);
  };
  std::vector<std::string> variants = {
      with("\n", "\r\n"),                                       // CRLF
      with("\n", ""),                                           // one line
      "\xEF\xBB\xBF" + text,                                    // byte order mark
      with("\"sailpoint.dtd\">", "\"sailpoint.dtd\" [<!ENTITY e \"x\">]>"),  // internal subset
      with("<ImportAction name=\"x\"/>", "text between objects"),
      with("<ImportAction name=\"x\"/>", "<?pi between objects?>"),
      with("<ImportAction name=\"x\"/>", "<![CDATA[cdata between objects]]>"),
      with("</sailpoint>", ""),                                 // not closed
      with("</sailpoint>", "</sailpoint><Extra/>"),             // after the root
      with("</sailpoint>", "</sailpoint>trailing text"),
      with("</sailpoint>", "</sailpoint></sailpoint>"),
      with("</Links></Identity><Identity", "</Links></Identity></Identity><Identity"),  // extra end tag
      with("<Identity\n     name=\"gus\">", "<Identity name=\"gus\"><Open>"),             // unclosed element
      with("</Bundle>\n", "</Bundl>\n"),                        // mismatched end tag
      with("value=\"a>b/>\"", "value=\"a>b/>"),                 // unterminated quote
      with("<!-- exported", "<!-- unterminated"),
      with("\n<sailpoint>", "\n<sailpoint version=\"1\" >"),
      with("\n<sailpoint>", "\n<sailpoint/>"),
      with("\n<sailpoint>", "\n<sailpointx>"),
      with("\n<sailpoint>", "\n<sailpoint a='>'>"),
      with("<sailpoint>\n", ""),                                // a single-object file
      with("<Identity displayName=\"nameless\"/>", "< Identity/>"),
      with("&lt;", "&bogus;"),
      text.substr(0, text.size() / 2),                          // cut short
      "<sailpoint>",
      "<sailpoint></sailpoint>",
      "<sailpoint><!-- only a comment --></sailpoint>",
  };
  for (size_t i = 0; i < variants.size(); ++i) {
    INFO("variant " << i);
    SameAsWhole(variants[i]);
  }
}

TEST_CASE("xml: a large export is read in many chunks with the same locations", "[load][xml]") {
  std::string text = "<?xml version='1.0'?>\n<sailpoint>\n";
  for (int i = 0; i < 30000; ++i) {
    if (i % 997 == 0) absl::StrAppend(&text, "  <Identity displayName=\"no name ", i, "\"/>\n");
    if (i % 4999 == 0)  // standalone: among the identities, in order
      absl::StrAppend(&text, "  <Link nativeIdentity=\"s", i, "\"><IdentityRef><Reference name=\"u", i,
                      "\"/></IdentityRef></Link>\n");
    absl::StrAppend(&text, "  <Identity name=\"u", i, "\">\n    <Attributes><Map><entry key=\"n\" value=\"", i,
                    "\"/></Map></Attributes>\n    <Links><Link nativeIdentity=\"", i, "\"/></Links>\n  </Identity>\n");
  }
  text += "</sailpoint>\n";
  REQUIRE(text.size() > (1u << 20));  // several chunks
  std::string dump = SameAsWhole(text, "big.xml");
  CHECK(dump.find("identity u7999 ") != std::string::npos);
  CHECK(dump.find("account  u4999 ") != std::string::npos);
  for (int threads : {1, 2, 3, 64}) {  // the chunks shared out between threads
    for (bool pack : {false, true}) {  // packed as they are read, and unpacked: the same objects
      INFO("threads " << threads << ", pack " << pack);
      SnapshotObjects parallel;
      REQUIRE(snapshot_sources_internal::ReadIiqXml(text, "big.xml", parallel, DefaultLimits(), threads, pack).ok());
      CHECK(parallel.identity_chunks.size() >= (pack ? 2u : 0u));
      UnpackIdentities(parallel);
      CHECK(Dump(parallel) == dump);
    }
  }
  SameAsWhole(text + "<", "big.xml");  // broken at the very end: the whole document's error
}

TEST_CASE("sources: a source's kind is its first character past a byte order mark and blanks", "[load]") {
  using namespace std::string_view_literals;
  CHECK(DetectSourceKind("<sailpoint/>"sv) == SourceKind::kIiqXml);
  CHECK(DetectSourceKind(" \t\r\n{}"sv) == SourceKind::kScimJson);
  CHECK(DetectSourceKind("\n["sv) == SourceKind::kScimJson);
  CHECK(DetectSourceKind("\xEF\xBB\xBF <a/>"sv) == SourceKind::kIiqXml);
  CHECK(DetectSourceKind(""sv) == SourceKind::kUnknown);
  CHECK(DetectSourceKind(" \n"sv) == SourceKind::kUnknown);
  CHECK(DetectSourceKind("\xEF\xBB\xBF"sv) == SourceKind::kUnknown);
  // Only a whole byte order mark is skipped, and a NUL is no blank.
  CHECK(DetectSourceKind("\xEF\x00\x00<a/>"sv) == SourceKind::kUnknown);
  CHECK(DetectSourceKind("\xEF\xBB<a/>"sv) == SourceKind::kUnknown);
  CHECK(DetectSourceKind("\0<a/>"sv) == SourceKind::kUnknown);
  CHECK(DetectSourceKind(" \0{}"sv) == SourceKind::kUnknown);
  SnapshotObjects out;
  absl::Status st = ReadSource("\0\0{\"Resources\": []}"sv, "nul.json", out, DefaultLimits());
  CHECK(ErrorCodeOf(st) == ErrorCode::kInvalidValue);
  CHECK(DetailOf(st) == "neither IdentityIQ XML nor SCIM JSON");
  CHECK(LocationOf(st).file == "nul.json");
}

TEST_CASE("xml: the repository's exports read the same object by object", "[load][xml]") {
  size_t files = 0;
  for (const char* dir : {PREFLIGHT_EXAMPLES_DIR, PREFLIGHT_CORPUS_DIR}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file() || e.path().extension() != ".xml") continue;
      auto text = ReadFileToString(e.path().string());
      REQUIRE(text.ok());
      if (DetectSourceKind(*text) != SourceKind::kIiqXml) continue;
      SameAsWhole(*text, e.path().filename().string());
      ++files;
    }
  }
  CHECK(files > 20);
}

namespace {

// A directory of sources, removed afterwards.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) : path(std::filesystem::temp_directory_path() / name) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void Write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

std::vector<std::pair<std::string, std::string>> Sources() {
  std::vector<std::pair<std::string, std::string>> files;
  files.emplace_back("a-apps.xml", R"(<sailpoint><Application name="AD"/></sailpoint>)");
  for (int f = 0; f < 7; ++f) {
    std::string xml = "<sailpoint>\n";
    for (int i = 0; i < 50; ++i)
      absl::StrAppend(&xml, "<Identity name=\"u", f, "-", i, "\"><Links><Link nativeIdentity=\"x\"/></Links></Identity>\n");
    files.emplace_back(absl::StrCat("b-identities-", f, ".xml"), xml + "</sailpoint>");
  }
  files.emplace_back("c-users.json", R"({"Resources":[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"j1","userName":"jo"}]})");
  std::string users = R"({"Resources":[)";
  for (int i = 0; i < 300; ++i)
    absl::StrAppend(&users, i ? "," : "", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"k)", i,
                    R"(","userName":"kim)", i, R"(","title":"t"})");
  files.emplace_back("c-users2.json", users + "]}");
  files.emplace_back("c-users3.json", R"([{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"z","userName":"zed"}])");
  files.emplace_back("d-broken.xml", "<sailpoint><Identity name=\"x\"></sailpoint>");
  files.emplace_back("e-roles.xml", R"(<sailpoint><Bundle name="R" type="business"/><Bundle type="it"/></sailpoint>)");
  files.emplace_back("f-policies.xml", R"(<sailpoint><Policy name="P" state="Active"/></sailpoint>)");
  return files;
}

}  // namespace

TEST_CASE("load: files parsed in parallel are added in order, as one by one", "[load]") {
  TempDir dir("preflight-parallel-load");
  auto files = Sources();
  SnapshotBuilder one_by_one;
  for (const auto& [name, text] : files) {
    dir.Write(name, text);
    REQUIRE(one_by_one.AddText(text, (dir.path / name).string()).ok());
  }
  UnpackIdentities(one_by_one.objects());
  const std::string objects = Dump(one_by_one.objects());
  CHECK(objects.find("d-broken.xml:line 1, column ") != std::string::npos);
  auto reference = one_by_one.Build();
  REQUIRE(reference.ok());
  for (int threads : {1, 2, 5}) {
    INFO("threads " << threads);
    std::vector<LoadProgress> progress;
    LoadOptions options;
    options.threads = threads;
    options.progress = [&](const LoadProgress& p) { progress.push_back(p); };
    SnapshotBuilder parallel(options);
    REQUIRE(parallel.AddPath(dir.path.string()).ok());
    UnpackIdentities(parallel.objects());
    CHECK(Dump(parallel.objects()) == objects);
    // After each file, then before each pass.
    REQUIRE(progress.size() == files.size());
    CHECK(progress.back().files == files.size());
    CHECK(progress.back().bytes == progress.back().bytes_total);
    CHECK(progress.back().identities == 7 * 50 + 1 + 300 + 1);
    for (size_t i = 0; i < files.size(); ++i) CHECK(progress[i].files == i + 1);
    auto built = parallel.Build();
    REQUIRE(built.ok());
    CHECK(progress.size() == files.size() + LoadPasses().size());
    CHECK(progress[files.size()].stage == LoadPasses().front().name);
    CHECK((*built)->source_hash() == (*reference)->source_hash());
  }
}

TEST_CASE("load: the first file that fails stops a strict load, with the files before it added", "[load]") {
  TempDir dir("preflight-parallel-strict");
  for (const auto& [name, text] : Sources()) dir.Write(name, text);
  LoadOptions options;
  options.strict = true;
  options.threads = 3;
  SnapshotBuilder strict(options);
  absl::Status status = strict.AddPath(dir.path.string());
  CHECK(status.ToString().find("d-broken.xml:line 1, column ") != std::string::npos);
  CHECK(strict.objects().identity_count() == 7 * 50 + 1 + 300 + 1);
  CHECK(strict.objects().roles.empty());

  // A file that cannot be read: the same, strict or not.
  SnapshotBuilder lenient;
  status = lenient.AddPaths({(dir.path / "a-apps.xml").string(), (dir.path / "missing.xml").string(),
                             (dir.path / "e-roles.xml").string()});
  CHECK(ErrorCodeOf(status) == ErrorCode::kNotFound);
  CHECK(lenient.objects().applications.size() == 1);
  CHECK(lenient.objects().roles.empty());
}

TEST_CASE("load: an exception during a parallel load reaches the caller, the workers stopped", "[load]") {
  TempDir dir("preflight-parallel-throw");
  for (const auto& [name, text] : Sources()) dir.Write(name, text);
  LoadOptions options;
  options.threads = 2;
  size_t calls = 0;
  options.progress = [&](const LoadProgress& p) {
    if (++calls == 3) throw std::runtime_error(absl::StrCat("stopped after ", p.files, " files"));
  };
  SnapshotBuilder builder(options);
  CHECK_THROWS_WITH(builder.AddPath(dir.path.string()), "stopped after 3 files");
  CHECK(builder.objects().identity_count() == 2 * 50);  // the apps and two identity files
}

namespace {

// Every field of the identities and accounts, in order (what packing must keep).
std::string Full(const std::vector<AttributeObject>& attrs) {
  std::string out;
  for (const auto& a : attrs) {
    absl::StrAppend(&out, a.name, a.multi ? "*" : "", "[", a.values.size(), "]=");
    for (std::string_view v : a.values) {
      absl::StrAppend(&out, v.size(), ":");
      out.append(v);
      out += ";";
    }
  }
  return out;
}

std::string Full(const AccountObject& a) {
  std::string out = absl::StrCat("account ", a.from_scim, a.disabled, a.locked, " ", a.id, "|", a.identity, "|",
                                 a.application, "|", a.instance, "|", a.native_identity, "|", a.display_name, " ",
                                 Where(a.where), " ", Full(a.attributes));
  for (const auto& p : a.permissions) absl::StrAppend(&out, " permission ", p.target, "=", absl::StrJoin(p.rights, ","));
  return out + "\n";
}

std::string Full(const SnapshotObjects& o) {
  std::string out;
  for (const auto& i : o.identities) {
    absl::StrAppend(&out, "identity ", i.from_scim, i.inactive, " ", i.name, "|", i.id, "|", i.display_name, " ",
                    absl::StrJoin(i.assigned_roles, ","), " ", absl::StrJoin(i.detected_roles, ","), " ",
                    absl::StrJoin(i.account_ids, ","), " ", Where(i.where), " ", Full(i.attributes), "\n");
    for (const auto& a : i.accounts) absl::StrAppend(&out, "  ", Full(a));
  }
  for (const auto& a : o.accounts) absl::StrAppend(&out, Full(a));
  return out;
}

}  // namespace

TEST_CASE("load: identities and accounts packed into chunks unpack to the very objects", "[load]") {
  // The repository's exports, XML and SCIM, and the parallel load's sources.
  std::vector<std::pair<std::string, std::string>> sources = Sources();
  for (const char* dir : {PREFLIGHT_EXAMPLES_DIR, PREFLIGHT_CORPUS_DIR}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file() || (e.path().extension() != ".xml" && e.path().extension() != ".json")) continue;
      auto text = ReadFileToString(e.path().string());
      REQUIRE(text.ok());
      sources.emplace_back(e.path().string(), *text);
    }
  }
  // What the readers never give: permissions, and standalone accounts among the sources.
  SnapshotObjects hand;
  AccountObject account;
  account.application = "AD";
  account.native_identity = "hand-1";
  account.permissions = {{"target", {"read", "write"}}, {"other", {}}};
  account.where = {"hand.json", 3, 4, 50, "/Resources/1"};
  IdentityObject identity;
  identity.from_scim = true;
  identity.name = "hand";
  identity.account_ids = {"a1", "a2"};
  identity.accounts = {account, account};
  hand.identities = {identity};
  account.identity = "hand";
  account.disabled = true;
  hand.accounts = {account, account};
  SnapshotObjects objects, packed;
  size_t chunks = 0;
  for (size_t f = 0; f <= sources.size(); ++f) {
    SnapshotObjects part;
    if (f == sources.size()) part = hand;
    else (void)ReadSource(sources[f].second, sources[f].first, part);
    SnapshotObjects copy;
    for (const auto& i : part.identities) copy.identities.push_back(i);
    for (const auto& a : part.accounts) copy.accounts.push_back(a);
    AppendObjects(objects, std::move(copy));
    // Every other source packed on its own; the rest packed together with the next.
    AppendObjects(packed, std::move(part));
    if (f % 2 == 0) PackIdentities(packed);
    chunks = packed.identity_chunks.size();
  }
  CHECK(chunks > 5);
  CHECK(packed.identity_count() == objects.identities.size());
  CHECK(objects.identities.size() > 500);
  CHECK(objects.accounts.size() == 2);
  std::string want = Full(objects);
  CHECK(want.find(" permission ") != std::string::npos);
  CHECK(want.find("identity 1") != std::string::npos);  // from SCIM
  UnpackIdentities(packed);
  CHECK(packed.identity_chunks.empty());
  CHECK(Full(packed) == want);
}
