// `preflight snapshot pull --url BASE --out DIR [--refresh] [--with FILE]...`
//
// Reads /Users, /Accounts, /Entitlements, /Roles and /Applications page by page
// (startIndex/count) and writes DIR as SCIM ListResponse page files the loader reads
// unchanged, plus DIR/MANIFEST (JSON: source, time, page size, counts, each resource's
// meta.version, the --with files). --refresh lists ids and versions only
// (attributes=id,meta), fetches what is new or changed (by id, in filter batches), keeps the
// rest from the previous pull and drops what disappeared; the pages are written by the
// same writer in the same order, so a refresh gives the files a full pull would.
// The new snapshot is written beside DIR and swapped in with one rename (renameat2
// RENAME_EXCHANGE when DIR exists): a pull that fails or is killed leaves DIR as it was.

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <deque>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "bindings/http/cat.h"
#include "bindings/http/command_options.h"
#include "bindings/http/json_text.h"
#include "bindings/http/pull.h"
#include "bindings/http/scim_client.h"
#include "engine/preflight.h"
#include "simdjson.h"

namespace preflight::http {
namespace {

namespace fs = std::filesystem;

constexpr char kUsage[] = R"(usage: preflight snapshot pull --url BASE --out DIR [options]

A snapshot from IdentityIQ's SCIM API (BASE: https://HOST/identityiq/scim/v2): /Users, /Accounts,
/Entitlements, /Roles, /Applications as SCIM ListResponse pages, plus DIR/MANIFEST. Policies are not
in the SCIM API: export them (and role profiles) as XML and add them with --with.

  --refresh                  fetch only what changed since the pull in DIR (by id and meta.version)
  --with FILE                copy FILE (an IdentityIQ XML export) into the snapshot (repeatable;
                             a refresh keeps the previous pull's files unless --with is given)
  --user NAME --password-file FILE           HTTP Basic
  --client-id ID --client-secret-file FILE   OAuth 2.0 client credentials (BASE's /identityiq/oauth2/token,
                                             or --token-url URL); the token is renewed when it expires
  --ca-file FILE             PEM CA bundle (TLS is always verified)
  --page-size N              resources per request and per page file (default 1000)
  --timeout S                one request (default 120)   --connect-timeout S (default 10)
  --retries N                on connection errors, 429 and 5xx, with backoff (default 6)
  --types LIST               comma-separated subset of Users,Accounts,Entitlements,Roles,Applications
Prints a JSON summary on stdout; progress on stderr when it is a terminal.
)";

const char* const kTypes[] = {"Users", "Accounts", "Entitlements", "Roles", "Applications"};

using Options = CommandOptions;

absl::Status Usage(std::string_view detail) {
  return MakeError(ErrorCode::kInvalidValue, Cat(detail, " (see 'preflight snapshot pull --help')"));
}

absl::StatusOr<Options> Parse(int argc, char** argv) {
  static const std::vector<std::string> flags = {"refresh", "help"};
  static const std::vector<std::string> valued = {"url", "out", "with", "user", "password-file", "client-id",
                                                  "client-secret-file", "token-url", "ca-file", "page-size",
                                                  "timeout", "connect-timeout", "retries", "types"};
  Options out;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) return Usage(Cat("unexpected argument '", a, "'"));
    std::string name = a.substr(2), value;
    size_t eq = name.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "password" || name == "client-secret")
      return Usage(Cat("--", name, " is not accepted: a secret on the command line is visible to every user of the "
                                   "machine; use --", name, "-file FILE"));
    if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
      out.values[name].push_back("true");
    } else if (std::find(valued.begin(), valued.end(), name) != valued.end()) {
      if (!inline_value) {
        if (i + 1 >= argc) return Usage(Cat("--", name, " needs a value"));
        value = argv[++i];
      }
      out.values[name].push_back(value);
    } else {
      return Usage(Cat("unknown option --", name));
    }
  }
  return out;
}

absl::StatusOr<std::string> ReadSecret(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kInvalidValue, Cat("cannot read the ", what, " file ", path));
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return MakeError(ErrorCode::kInvalidValue, Cat("the ", what, " file ", path, " is empty"));
  return s;
}

bool Number(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && out > 0;
}

std::string PercentEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A whole file in one read (istreambuf_iterator copies a byte at a time: a refresh reads
// the previous pull's pages, hundreds of MB).
std::optional<std::string> Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return std::nullopt;
  std::string out(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  if (!in) return std::nullopt;
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// One resource as pulled: its id, its version (meta.version, else meta.lastModified, else
// ""), and its JSON text (minified).
struct Resource {
  std::string id, version, json;
};

// The version a refresh compares: "" means unknown, always fetched again.
std::string VersionOf(simdjson::dom::element r) {
  std::string_view v;
  if (r["meta"]["version"].get_string().get(v) == simdjson::SUCCESS) return std::string(v);
  if (r["meta"]["lastModified"].get_string().get(v) == simdjson::SUCCESS) return Cat("lastModified:", v);
  return "";
}

struct Page {
  int64_t total = 0;
  std::vector<Resource> resources;
};

absl::StatusOr<Page> ReadPage(const std::string& body, std::string_view what) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS)
    return absl::UnavailableError(Cat(what, ": the answer is not JSON (cut short?)"));
  Page page;
  simdjson::dom::array list;
  if (doc["Resources"].get_array().get(list) != simdjson::SUCCESS) {
    int64_t total = -1;
    if (doc["totalResults"].get_int64().get(total) == simdjson::SUCCESS && total == 0) return page;
    return absl::UnavailableError(Cat(what, ": the answer is not a SCIM ListResponse"));
  }
  if (doc["totalResults"].get_int64().get(page.total) != simdjson::SUCCESS) page.total = -1;
  for (simdjson::dom::element r : list) {
    Resource res;
    std::string_view id;
    if (r["id"].get_string().get(id) != simdjson::SUCCESS)
      return absl::UnavailableError(Cat(what, ": a resource without an id"));
    res.id = std::string(id);
    res.version = VersionOf(r);
    res.json = simdjson::minify(r);
    page.resources.push_back(std::move(res));
  }
  return page;
}

// Writes one type's resources as ListResponse pages of `page_size`, in the order given.
class PageWriter {
 public:
  PageWriter(fs::path dir, std::string type, size_t page_size)
      : dir_(std::move(dir)), type_(std::move(type)), page_size_(page_size) {}
  absl::Status Add(std::string_view json) {
    pending_.emplace_back(json);
    if (pending_.size() == page_size_) return Flush();
    return absl::OkStatus();
  }
  // The last page; totalResults is known only now, so every page names the final total
  // (written after the count is known: pages are rewritten with it in Finish).
  absl::Status Finish() {
    if (!pending_.empty()) {
      if (absl::Status s = Flush(); !s.ok()) return s;
    }
    // Patch totalResults: pages were written with a placeholder of fixed width.
    for (const fs::path& p : written_) {
      std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
      if (!f) return absl::InternalError(Cat("cannot reopen ", p.string()));
      std::string total = std::to_string(count_);
      total.insert(0, 12 - total.size(), ' ');
      f.seekp(static_cast<std::streamoff>(total_offset_));
      f.write(total.data(), static_cast<std::streamsize>(total.size()));
      if (!f) return absl::InternalError(Cat("cannot write ", p.string()));
    }
    return absl::OkStatus();
  }
  size_t count() const { return count_; }

 private:
  absl::Status Flush() {
    char name[64];
    std::snprintf(name, sizeof name, "%s-%05zu.json", Lower(type_).c_str(), written_.size());
    fs::path path = dir_ / name;
    std::string head = "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":";
    total_offset_ = head.size();
    std::string out = head + std::string(12, ' ');
    CatTo(out, ",\"startIndex\":", count_ + 1, ",\"itemsPerPage\":", pending_.size(), ",\"Resources\":[\n");
    for (size_t i = 0; i < pending_.size(); ++i) CatTo(out, i ? ",\n" : "", pending_[i]);
    out += "\n]}\n";
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.close();
    if (!f) return absl::InternalError(Cat("cannot write ", path.string()));
    count_ += pending_.size();
    pending_.clear();
    written_.push_back(path);
    return absl::OkStatus();
  }
  fs::path dir_;
  std::string type_;
  size_t page_size_;
  std::vector<std::string> pending_;
  std::vector<fs::path> written_;
  size_t count_ = 0;
  size_t total_offset_ = 0;
};

class Progress {
 public:
  explicit Progress(bool on) : on_(on), start_(std::chrono::steady_clock::now()) {}
  void Show(std::string_view type, size_t done, int64_t total, size_t pages) {
    if (!on_) return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double rate = s > 0 ? static_cast<double>(all_ + done) / s : 0;
    std::string eta = total > 0 && rate > 0 ? Cat(", ETA ", static_cast<int64_t>((total - static_cast<int64_t>(done)) / rate), " s") : "";
    std::fprintf(stderr, "\r%.*s: %zu/%lld resources, %zu pages, %.0f/s%s    ", static_cast<int>(type.size()),
                 type.data(), done, static_cast<long long>(total), pages, rate, eta.c_str());
  }
  void Done(size_t n) {
    all_ += n;
    if (on_) std::fputc('\n', stderr);
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point start_;
  size_t all_ = 0;
};

// A page file of the previous pull, mapped read-only: a refresh keeps the resources it reuses
// as views into the page cache, not as copies (the snapshot may be many GB).
class MappedFile {
 public:
  static std::unique_ptr<MappedFile> Open(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat st;
    auto file = std::make_unique<MappedFile>();
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      void* data = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (data != MAP_FAILED) {
        file->data_ = static_cast<const char*>(data);
        file->size_ = static_cast<size_t>(st.st_size);
      }
    }
    ::close(fd);
    return file;
  }
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  std::string_view view() const { return {data_ == nullptr ? "" : data_, size_}; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

struct Previous {
  // per type: id -> (version, json); the json views `pages` or `parsed`.
  std::map<std::string, std::unordered_map<std::string, std::pair<std::string, std::string_view>>> resources;
  std::vector<std::unique_ptr<MappedFile>> pages;
  std::deque<std::string> parsed;  // resources of pages that had to be parsed (not ours)
  std::vector<std::string> with;   // file names in the old snapshot
};

absl::StatusOr<Previous> ReadPrevious(const fs::path& dir) {
  Previous prev;
  std::optional<std::string> manifest_text = Slurp(dir / "MANIFEST");
  if (!manifest_text) return Usage(Cat("--refresh needs a previous pull in ", dir.string(), " (no MANIFEST)"));
  const std::string& manifest = *manifest_text;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(manifest).get(doc) != simdjson::SUCCESS)
    return Usage(Cat(dir.string(), "/MANIFEST is not JSON"));
  simdjson::dom::array with;
  if (doc["with"].get_array().get(with) == simdjson::SUCCESS)
    for (simdjson::dom::element w : with) {
      std::string_view s;
      if (w.get_string().get(s) == simdjson::SUCCESS) prev.with.emplace_back(s);
    }
  // The pages are ours (PageWriter: one minified resource a line) and the MANIFEST lists
  // each type's ids and versions in page order, so the k-th resource line is the k-th id:
  // no page is parsed again. Pages that do not line up with the MANIFEST are parsed.
  for (const char* type : kTypes) {
    auto& map = prev.resources[type];
    std::vector<std::pair<std::string_view, std::string_view>> order;
    simdjson::dom::object versions;
    if (doc["versions"][type].get_object().get(versions) == simdjson::SUCCESS)
      for (auto field : versions) {
        std::string_view v;
        if (field.value.get_string().get(v) != simdjson::SUCCESS) v = {};
        order.emplace_back(field.key, v);
      }
    std::vector<std::string_view> bodies;
    for (size_t i = 0;; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "%s-%05zu.json", Lower(type).c_str(), i);
      std::unique_ptr<MappedFile> page = MappedFile::Open(dir / name);
      if (!page) break;
      bodies.push_back(page->view());
      prev.pages.push_back(std::move(page));
    }
    std::vector<std::string_view> lines;
    bool aligned = true;
    for (std::string_view body : bodies) {
      size_t first = body.find('\n');
      if (first == std::string_view::npos || first < 14 || body.substr(first - 14, 14) != "\"Resources\":[") {
        aligned = false;
        break;
      }
      for (size_t at = first + 1; at < body.size();) {
        size_t end = body.find('\n', at);
        if (end == std::string_view::npos) end = body.size();
        std::string_view line(body.data() + at, end - at);
        at = end + 1;
        if (line == "]}") break;
        if (!line.empty() && line.back() == ',') line.remove_suffix(1);
        lines.push_back(line);
      }
    }
    if (aligned && lines.size() == order.size()) {
      for (size_t k = 0; k < lines.size(); ++k)
        map[std::string(order[k].first)] = {std::string(order[k].second), lines[k]};
      continue;
    }
    for (size_t i = 0; i < bodies.size(); ++i) {
      auto page = ReadPage(std::string(bodies[i]), Cat(Lower(type), " page ", i));
      if (!page.ok()) return page.status();
      for (Resource& r : page->resources) {
        prev.parsed.push_back(std::move(r.json));
        map[r.id] = {std::move(r.version), prev.parsed.back()};
      }
    }
  }
  return prev;
}

struct Summary {
  std::map<std::string, size_t> counts;
  size_t fetched = 0, reused = 0, dropped = 0;
};

absl::Status PullType(ScimClient& client, const std::string& type, size_t page_size, const fs::path& tmp,
                      const Previous* prev, Progress& progress, Summary& summary, std::string& versions_json) {
  PageWriter writer(tmp, type, page_size);
  versions_json += Cat(versions_json.empty() ? "" : ",", "\"", type, "\":{");
  bool first_version = true;
  std::vector<std::string> noted;  // the ids written, in order
  auto note = [&](const Resource& r) {
    noted.push_back(r.id);
    AppendJsonString(versions_json += first_version ? "" : ",", r.id);
    versions_json += ':';
    AppendJsonString(versions_json, r.version);
    first_version = false;
  };
  size_t pages = 0;
  // Every resource, page by page: a full pull, or a refresh where comparing does not pay.
  auto fetch_all = [&]() -> absl::Status {
    for (int64_t start = 1;;) {
      auto body = client.Get(Cat("/", type, "?startIndex=", start, "&count=", page_size));
      if (!body.ok()) return body.status();
      auto page = ReadPage(*body, Cat("GET /", type, " startIndex=", start));
      if (!page.ok()) return page.status();
      ++pages;
      for (const Resource& r : page->resources) {
        note(r);
        if (absl::Status s = writer.Add(r.json); !s.ok()) return s;
      }
      summary.fetched += page->resources.size();
      start += static_cast<int64_t>(page->resources.size());
      progress.Show(type, writer.count() + 0, page->total, pages);
      if (page->resources.empty() || (page->total >= 0 && start > page->total)) break;
    }
    return absl::OkStatus();
  };
  // What a refresh that fetched everything drops: the old ids no longer listed.
  auto count_dropped = [&](const std::vector<std::string>& now) {
    if (prev == nullptr) return;
    std::unordered_map<std::string_view, bool> listed;
    for (const std::string& id : now) listed[id] = true;
    for (const auto& [id, _] : prev->resources.at(type)) summary.dropped += listed.count(id) == 0;
  };
  bool versioned = false;
  if (prev != nullptr)
    for (const auto& [id, entry] : prev->resources.at(type)) versioned = versioned || !entry.first.empty();
  if (prev == nullptr || !versioned) {
    // No previous pull, or nothing in it to compare (the server gives this type no
    // meta.version): the pages themselves are the cheapest listing.
    if (absl::Status s = fetch_all(); !s.ok()) return s;
    count_dropped(noted);
  } else {
    // The listing: ids and versions only, in the server's order (the order of a full pull).
    std::vector<Resource> listing;
    int64_t total = -1;
    for (int64_t start = 1;;) {
      auto body = client.Get(Cat("/", type, "?attributes=id,meta&startIndex=", start, "&count=", page_size));
      if (!body.ok()) return body.status();
      auto page = ReadPage(*body, Cat("GET /", type, "?attributes=id,meta startIndex=", start));
      if (!page.ok()) return page.status();
      ++pages;
      total = page->total;
      start += static_cast<int64_t>(page->resources.size());
      for (Resource& r : page->resources) listing.push_back(std::move(r));
      progress.Show(Cat(type, " (listing)"), listing.size(), total, pages);
      if (page->resources.empty() || (page->total >= 0 && start > page->total)) break;
    }
    const auto& old = prev->resources.at(type);
    // What is new or changed (or has no version to compare), fetched by id in filter batches.
    std::unordered_map<std::string, std::string> fetched;
    std::vector<std::string> wanted;
    for (const Resource& r : listing) {
      auto it = old.find(r.id);
      if (it == old.end() || r.version.empty() || it->second.first != r.version) wanted.push_back(r.id);
    }
    if (wanted.size() * 4 > listing.size()) {
      // A quarter or more changed: the pages cost fewer requests than fetching by id.
      if (absl::Status s = fetch_all(); !s.ok()) return s;
      count_dropped(noted);
      versions_json += '}';
      if (absl::Status s = writer.Finish(); !s.ok()) return s;
      summary.counts[type] = writer.count();
      progress.Done(writer.count());
      return absl::OkStatus();
    }
    constexpr size_t kBatch = 50;
    for (size_t i = 0; i < wanted.size(); i += kBatch) {
      std::string filter;
      for (size_t j = i; j < std::min(wanted.size(), i + kBatch); ++j) {
        std::string quoted;
        AppendJsonString(quoted, wanted[j]);
        filter += Cat(j == i ? "" : " or ", "id eq ", quoted);
      }
      auto body = client.Get(Cat("/", type, "?filter=", PercentEncode(filter), "&count=", kBatch));
      if (!body.ok()) return body.status();
      auto page = ReadPage(*body, Cat("GET /", type, "?filter=id eq ..."));
      if (!page.ok()) return page.status();
      for (Resource& r : page->resources) fetched[r.id] = std::move(r.json);
      progress.Show(Cat(type, " (changed)"), std::min(wanted.size(), i + kBatch), static_cast<int64_t>(wanted.size()), pages);
    }
    summary.fetched += fetched.size();
    size_t kept = 0;
    for (Resource& r : listing) {
      auto f = fetched.find(r.id);
      std::string_view json;
      if (f != fetched.end()) {
        json = f->second;
      } else if (auto it = old.find(r.id); it != old.end() && !r.version.empty() && it->second.first == r.version) {
        json = it->second.second;
        ++summary.reused;
      } else {
        continue;  // listed, then gone before it could be fetched: the next refresh sees it
      }
      ++kept;
      note(r);
      if (absl::Status s = writer.Add(json); !s.ok()) return s;
    }
    size_t gone = 0;
    std::unordered_map<std::string, bool> listed;
    for (const Resource& r : listing) listed[r.id] = true;
    for (const auto& [id, _] : old) gone += listed.count(id) == 0;
    summary.dropped += gone;
    (void)kept;
  }
  versions_json += '}';
  if (absl::Status s = writer.Finish(); !s.ok()) return s;
  summary.counts[type] = writer.count();
  progress.Done(writer.count());
  return absl::OkStatus();
}

// A pull in progress keeps a journal, DIR.pull-PID/RESUME: a header line naming what it
// pulls (source, page size, full or refresh), then one line per finished type with its count
// and versions. A pull that dies leaves its directory; the next pull with the same header
// adopts it and skips the finished types (the partial one starts over), and removes the
// directories of other dead pulls.
std::string ResumeHeader(const std::string& base, size_t page_size, bool refresh) {
  return Cat("{\"source\":", JsonString(base), ",\"pageSize\":", page_size, ",\"refresh\":", refresh ? "true" : "false",
             "}");
}

std::optional<fs::path> AdoptStale(const fs::path& out, const std::string& header) {
  std::error_code ec;
  fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  std::string prefix = out.filename().string() + ".pull-";
  std::optional<fs::path> adopted;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours
    std::ifstream journal(e.path() / "RESUME");
    std::string first;
    if (!adopted && journal && std::getline(journal, first) && first == header) {
      adopted = e.path();
    } else {
      fs::remove_all(e.path(), ec);
    }
  }
  return adopted;
}

// The finished types of an adopted pull: type -> (count, versions object text).
std::map<std::string, std::pair<size_t, std::string>> ReadJournal(const fs::path& dir) {
  std::map<std::string, std::pair<size_t, std::string>> done;
  std::ifstream in(dir / "RESUME");
  std::string line;
  std::getline(in, line);  // the header
  simdjson::dom::parser parser;
  while (std::getline(in, line)) {
    simdjson::dom::element doc;
    std::string_view type;
    int64_t count = 0;
    constexpr std::string_view kVersions = ",\"versions\":";
    size_t at = line.find(kVersions);
    if (parser.parse(line).get(doc) != simdjson::SUCCESS || doc["type"].get_string().get(type) != simdjson::SUCCESS ||
        doc["count"].get_int64().get(count) != simdjson::SUCCESS || at == std::string::npos)
      break;  // a line cut short by the kill: what follows is not trusted either
    done[std::string(type)] = {static_cast<size_t>(count), line.substr(at + kVersions.size(),
                                                                       line.size() - at - kVersions.size() - 1)};
  }
  return done;
}

// The client's half of the options: where, how to authenticate, timeouts, retries.
absl::Status ReadClientOptions(const Options& opt, const std::string& url, ScimClientOptions& client) {
  client.base = url;
  while (!client.base.empty() && client.base.back() == '/') client.base.pop_back();
  if (client.base.rfind("http://", 0) != 0 && client.base.rfind("https://", 0) != 0)
    return Usage("--url must be an http:// or https:// URL");
  if (size_t at = client.base.find('@'); at != std::string::npos && at < client.base.find('/', client.base.find("://") + 3))
    return Usage("--url must not carry credentials; use --user with --password-file");
  client.ca_file = opt.Get("ca-file").value_or("");
  if (auto user = opt.Get("user")) {
    auto file = opt.Get("password-file");
    if (!file) return Usage("--user needs --password-file FILE");
    auto secret = ReadSecret(*file, "password");
    if (!secret.ok()) return secret.status();
    client.user = *user;
    client.password = *std::move(secret);
  } else if (opt.Has("password-file")) {
    return Usage("--password-file goes with --user NAME");
  }
  if (auto id = opt.Get("client-id")) {
    if (!client.user.empty()) return Usage("give --user or --client-id, not both");
    auto file = opt.Get("client-secret-file");
    if (!file) return Usage("--client-id needs --client-secret-file FILE");
    auto secret = ReadSecret(*file, "client secret");
    if (!secret.ok()) return secret.status();
    client.client_id = *id;
    client.client_secret = *std::move(secret);
    client.token_url = opt.Get("token-url").value_or("");
  } else if (opt.Has("client-secret-file") || opt.Has("token-url")) {
    return Usage("--client-secret-file and --token-url go with --client-id ID");
  }
  double v = 0;
  if (auto t = opt.Get("timeout")) {
    if (!Number(*t, v)) return Usage("--timeout must be a positive number of seconds");
    client.timeout = std::chrono::milliseconds(static_cast<long long>(v * 1000));
  }
  if (auto t = opt.Get("connect-timeout")) {
    if (!Number(*t, v)) return Usage("--connect-timeout must be a positive number of seconds");
    client.connect_timeout = std::chrono::milliseconds(static_cast<long long>(v * 1000));
  }
  if (auto t = opt.Get("retries")) {
    char* end = nullptr;
    long n = std::strtol(t->c_str(), &end, 10);
    if (end != t->c_str() + t->size() || n < 0 || n > 100) return Usage("--retries must be between 0 and 100");
    client.max_retries = static_cast<int>(n);
  }
  return absl::OkStatus();
}

// The new snapshot is made durable, then switched in with one rename (an existing DIR is
// exchanged atomically); `tmp` then holds the previous snapshot, or nothing.
absl::Status FlushAndSwitch(const fs::path& tmp, const fs::path& out) {
  // Its files, then the directory: a crash after the switch cannot leave empty pages behind.
  for (const auto& e : fs::directory_iterator(tmp)) {
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
      if (fd >= 0) ::close(fd);
      return MakeError(ErrorCode::kInternal, Cat("cannot flush ", e.path().string(), ": ", std::strerror(errno)));
    }
    ::close(fd);
  }
  if (int fd = ::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  // The switch: one rename. An existing DIR is exchanged atomically, then removed.
  if (fs::exists(out)) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) != 0)
      return MakeError(ErrorCode::kInternal, Cat("cannot switch ", out.string(), ": ", std::strerror(errno)));
  } else if (::rename(tmp.c_str(), out.c_str()) != 0) {
    return MakeError(ErrorCode::kInternal, Cat("cannot create ", out.string(), ": ", std::strerror(errno)));
  }
  // `tmp` now holds the previous snapshot (or nothing); Cleanup removes it.
  fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  if (int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);  // the rename itself
    ::close(fd);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Run(const Options& opt) {
  auto url = opt.Get("url");
  auto out_dir = opt.Get("out");
  if (!url || url->empty()) return Usage("snapshot pull needs --url BASE");
  if (!out_dir || out_dir->empty()) return Usage("snapshot pull needs --out DIR");
  ScimClientOptions client;
  if (absl::Status st = ReadClientOptions(opt, *url, client); !st.ok()) return st;
  size_t page_size = 1000;
  if (auto t = opt.Get("page-size")) {
    char* end = nullptr;
    long n = std::strtol(t->c_str(), &end, 10);
    if (end != t->c_str() + t->size() || n < 1 || n > 100000) return Usage("--page-size must be between 1 and 100000");
    page_size = static_cast<size_t>(n);
  }
  std::vector<std::string> types(std::begin(kTypes), std::end(kTypes));
  if (auto t = opt.Get("types")) {
    types.clear();
    for (const std::string& name : SplitAttributeList(*t)) {
      bool known = false;
      for (const char* k : kTypes) known = known || name == k;
      if (!known) return Usage(Cat("--types: unknown resource type '", name, "'"));
      types.push_back(name);
    }
  }
  const bool tty = ::isatty(STDERR_FILENO);
  client.log = [](std::string_view line) {
    std::fprintf(stderr, "preflight: %.*s\n", static_cast<int>(line.size()), line.data());
  };

  const auto started = std::chrono::steady_clock::now();  // the whole run: reading DIR and the flush too
  fs::path out = fs::path(*out_dir);
  if (out.filename().empty()) out = out.parent_path();  // "dir/"
  const bool refresh = opt.Has("refresh");
  std::optional<Previous> prev;
  if (refresh) {
    auto p = ReadPrevious(out);
    if (!p.ok()) return p.status();
    prev = *std::move(p);
  } else if (fs::exists(out) && !fs::exists(out / "MANIFEST") && !fs::is_empty(out)) {
    return Usage(Cat(out.string(), " exists and is not a pulled snapshot (no MANIFEST): refusing to replace it"));
  }
  for (const std::string& w : opt.All("with"))
    if (!fs::is_regular_file(w)) return Usage(Cat("--with: cannot read ", w));

  auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  const double previous_seconds = since(started);
  fs::path tmp = out;
  tmp += Cat(".pull-", static_cast<long>(::getpid()));
  std::error_code ec;
  const std::string header = ResumeHeader(client.base, page_size, refresh);
  std::optional<fs::path> adopted = AdoptStale(out, header);
  fs::remove_all(tmp, ec);
  if (adopted && ::rename(adopted->c_str(), tmp.c_str()) != 0) {
    fs::remove_all(*adopted, ec);
    adopted.reset();
  }
  std::map<std::string, std::pair<size_t, std::string>> finished;
  if (adopted) {
    finished = ReadJournal(tmp);
  } else {
    fs::create_directories(tmp, ec);
    if (ec) return MakeError(ErrorCode::kInternal, Cat("cannot create ", tmp.string(), ": ", ec.message()));
    std::ofstream journal(tmp / "RESUME", std::ios::binary | std::ios::trunc);
    journal << header << '\n';
  }
  struct Cleanup {
    fs::path dir;
    bool keep = false;
    ~Cleanup() {
      std::error_code e;
      if (!keep) fs::remove_all(dir, e);
    }
  } cleanup{tmp};

  const auto transfer_started = std::chrono::steady_clock::now();
  ScimClient scim(client);
  Progress progress(tty);
  Summary summary;
  std::string versions;
  std::vector<std::string> resumed;
  for (const std::string& type : types) {
    if (auto it = finished.find(type); it != finished.end()) {
      CatTo(versions, versions.empty() ? "" : ",", "\"", type, "\":", it->second.second);
      summary.counts[type] = it->second.first;
      resumed.push_back(type);
      continue;
    }
    // A type the dead pull had begun: its pages start over.
    const std::string page_prefix = Lower(type) + "-";
    for (const auto& e : fs::directory_iterator(tmp, ec))
      if (e.path().filename().string().rfind(page_prefix, 0) == 0) fs::remove(e.path(), ec);
    const size_t versions_before = versions.size();
    absl::Status s = PullType(scim, type, page_size, tmp, prev ? &*prev : nullptr, progress, summary, versions);
    if (!s.ok()) {
      if (s.code() == absl::StatusCode::kInternal) return MakeError(ErrorCode::kInternal, std::string(s.message()));
      cleanup.keep = true;  // the finished types wait for the next pull (RESUME)
      return MakeError(ErrorCode::kInternal, Cat("pull from ", client.base, " failed; ", out.string(),
                                                 " is unchanged (the next pull resumes after the finished types): ",
                                                 std::string(s.message())));
    }
    std::string fragment = versions.substr(versions_before);
    std::ofstream journal(tmp / "RESUME", std::ios::binary | std::ios::app);
    journal << Cat("{\"type\":\"", type, "\",\"count\":", summary.counts[type],
                   ",\"versions\":", fragment.substr(fragment.find(":{") + 1), "}\n");
    journal.flush();
    if (!journal) return MakeError(ErrorCode::kInternal, Cat("cannot write ", (tmp / "RESUME").string()));
  }
  fs::remove(tmp / "RESUME", ec);
  const double transfer_seconds = since(transfer_started);
  const auto flush_started = std::chrono::steady_clock::now();
  // The exported parts: --with files, or on a refresh the previous pull's.
  std::vector<std::string> with_names;
  std::vector<fs::path> with_files;
  if (opt.Has("with")) {
    for (const std::string& w : opt.All("with")) with_files.emplace_back(w);
  } else if (prev) {
    for (const std::string& name : prev->with) with_files.push_back(out / name);
  }
  for (const fs::path& w : with_files) {
    std::string name = w.filename().string();
    if (name == "MANIFEST" || fs::exists(tmp / name)) name = "with-" + name;
    fs::copy_file(w, tmp / name, fs::copy_options::overwrite_existing, ec);
    if (ec) return MakeError(ErrorCode::kInvalidValue, Cat("--with: cannot copy ", w.string(), ": ", ec.message()));
    with_names.push_back(name);
  }
  std::string counts;
  size_t resources = 0;
  for (const auto& [type, n] : summary.counts) {
    CatTo(counts, counts.empty() ? "" : ",", "\"", type, "\":", n);
    resources += n;
  }
  std::string with_json;
  for (const std::string& n : with_names) AppendJsonString(with_json += with_json.empty() ? "" : ",", n);
  std::string manifest = Cat("{\"source\":", JsonString(client.base), ",\"time\":\"", Now(), "\",\"pageSize\":", page_size,
                             ",\"counts\":{", counts, "},\"with\":[", with_json, "],\"versions\":{", versions, "}}\n");
  {
    std::ofstream f(tmp / "MANIFEST", std::ios::binary | std::ios::trunc);
    f.write(manifest.data(), static_cast<std::streamsize>(manifest.size()));
    f.close();
    if (!f) return MakeError(ErrorCode::kInternal, "cannot write the MANIFEST");
  }
  if (absl::Status st = FlushAndSwitch(tmp, out); !st.ok()) return st;
  const ScimClientStats& st = scim.stats();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return Cat("{\"out\":", JsonString(out.string()), ",\"source\":", JsonString(client.base), ",\"refresh\":",
             refresh ? "true" : "false", ",\"resumed\":[", [&] {
               std::string list;
               for (const std::string& t : resumed) CatTo(list, list.empty() ? "\"" : ",\"", t, "\"");
               return list;
             }(), "],\"counts\":{", counts, "},\"resources\":", resources,
             ",\"fetched\":", summary.fetched, ",\"reused\":", summary.reused, ",\"dropped\":", summary.dropped,
             ",\"requests\":", st.requests, ",\"retries\":", st.retries, ",\"tokens\":", st.tokens,
             ",\"bytes\":", st.bytes, ",\"seconds\":", seconds, ",\"phases\":{\"previous\":", previous_seconds,
             ",\"transfer\":", transfer_seconds, ",\"flush\":", since(flush_started), "}}");
}

}  // namespace

int PullMain(int argc, char** argv) {
  for (int i = 3; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  absl::StatusOr<std::string> result;
  auto opt = Parse(argc, argv);
  if (!opt.ok()) {
    result = opt.status();
  } else {
    result = Run(*opt);
  }
  if (result.ok()) {
    std::printf("%s\n", result->c_str());
    return 0;
  }
  std::string error = ScimErrorJson(result.status());
  std::printf("%s\n", error.c_str());
  std::string line(result.status().message());
  std::fprintf(stderr, "preflight: %s\n", line.substr(0, line.find('\n')).c_str());
  return ErrorCodeOf(result.status()) == ErrorCode::kInternal ? 1 : 2;
}

}  // namespace preflight::http
