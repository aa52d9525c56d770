#include "engine/load/snapshot_builder.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "absl/strings/str_cat.h"
#include "engine/codecs/scim_stream.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/load/build_context.h"
#include "engine/model/huge_pages.h"
#include "engine/query/snapshot_query.h"
#include "engine/util/file.h"

namespace preflight {
namespace {

using Clock = std::chrono::steady_clock;
double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// The first error diagnostic from `from` on, as a status (strict loads).
absl::Status FirstError(const std::vector<Diagnostic>& diagnostics, size_t from) {
  for (size_t i = from; i < diagnostics.size(); ++i) {
    const Diagnostic& d = diagnostics[i];
    if (d.severity == Severity::kError)
      return MakeError(d.code, absl::StrCat(d.object.empty() ? "" : d.object + ": ", d.message), d.where);
  }
  return absl::OkStatus();
}

}  // namespace

double SnapshotBuilder::Seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void SnapshotBuilder::Report(std::string_view stage) {
  if (!options_.progress) return;
  LoadProgress p;
  p.stage = stage;
  p.files = files_added_;
  p.files_total = std::max(files_total_, files_added_);
  p.bytes = bytes_added_;
  p.bytes_total = std::max(bytes_total_, bytes_added_);
  p.identities = identities_added_;
  p.seconds = Seconds();
  options_.progress(p);
}

absl::Status SnapshotBuilder::Merge(SnapshotObjects&& part, const absl::Status& status, std::string_view name,
                                    size_t bytes) {
  files_added_++;
  bytes_added_ += bytes;
  identities_added_ += part.identity_count();
  // Packed in order: the chunks' identities come before any still unpacked.
  PackIdentities(objects_);
  PackIdentities(part);
  // A reader's documents are JSON it parsed: within the query documents' nesting budget,
  // not parsed again at build (those added through objects() are).
  if (options_.limits.max_nesting_depth <= kQueryDocumentDepth) part.scim_documents.Trust();
  AppendObjects(objects_, std::move(part));
  if (!status.ok()) {
    if (options_.strict) return status;
    objects_.diagnostics.push_back(
        {Severity::kError, ErrorCodeOf(status), DetailOf(status), LocationOf(status), std::string(name)});
  }
  return absl::OkStatus();
}

absl::Status SnapshotBuilder::AddText(std::string_view text, std::string_view name) {
  if (start_ == Clock::time_point{}) start_ = Clock::now();
  auto t = Clock::now();
  hash_.AddText(text);
  timings_.files++;
  timings_.bytes += text.size();
  SnapshotObjects part;
  absl::Status status = ReadSource(text, name, part, options_.limits);
  timings_.parse_ms += MsSince(t);
  return Merge(std::move(part), status, name, text.size());
}

namespace {

// One file of the paths given, in load order, or why a directory could not be listed.
struct SourceFile {
  std::string path;
  absl::Status error;
  uint64_t size = 0;
};

std::vector<SourceFile> ListSources(const std::vector<std::string>& paths) {
  std::vector<SourceFile> out;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) {
      uint64_t size = std::filesystem::file_size(path, ec);
      out.push_back({path, absl::OkStatus(), ec ? 0 : size});
      continue;
    }
    std::vector<std::string> files;
    for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string ext = it->path().extension().string();
      if (ext == ".xml" || ext == ".json") files.push_back(it->path().string());
    }
    if (ec) {
      out.push_back({path, MakeError(ErrorCode::kNotFound, absl::StrCat("cannot list directory: ", ec.message()),
                                     Location{path})});
      break;  // nothing after it is read
    }
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      uint64_t size = std::filesystem::file_size(f, ec);
      out.push_back({std::move(f), absl::OkStatus(), ec ? 0 : size});
    }
  }
  return out;
}

}  // namespace

// A pool of workers reads the files and parses them, each into its own SnapshotObjects
// with its own SourceReader (parsers and file buffers are reused from file to file); the
// calling thread hashes each file once read, in order (the hash being of the sources in
// order), while a worker parses it, and appends the parsed files in order. At most one
// file per worker is read and not yet appended, so memory holds a few files' text, never
// all of them: a worker reads its next file itself as soon as the window lets it (a file
// read ahead by the calling thread would hold one more file's text, ~50 MB, at the peak).
// A SCIM export read a block at a time holds no text: one more of those is queued ahead,
// so that a worker done before the file to append next goes on at once.
absl::Status SnapshotBuilder::AddPaths(const std::vector<std::string>& paths) {
  if (start_ == Clock::time_point{}) start_ = Clock::now();
  const auto began = Clock::now();
  const double read_before = timings_.read_ms;
  std::vector<SourceFile> files = ListSources(paths);
  uint64_t bytes = 0;
  for (const SourceFile& f : files) {
    files_total_++;
    bytes += f.size;
  }
  bytes_total_ += bytes;
  const size_t cores = options_.threads > 0 ? static_cast<size_t>(options_.threads)
                                            : std::max(1u, std::thread::hardware_concurrency());
  const size_t threads = std::min(cores, files.size());
  const size_t window = threads;

  struct Slot {
    std::string text;
    size_t bytes = 0;
    SnapshotObjects objects;
    absl::Status status;
    std::exception_ptr error;  // what the reader threw, rethrown on this thread
    // Set by the worker before `read`, then only read: `text` read (or the file stamped),
    // or `read_status` or `read_error` (what the read threw) says why not.
    bool read = false;
    absl::Status read_status;
    std::exception_ptr read_error;
    double read_ms = 0;
    bool parsed = false;
    bool streamed = false;  // read by its worker a block at a time (`text` empty)
    FileStamp stamp;        // streamed: the file as it was hashed, which the worker must read
  };
  std::vector<Slot> slots(files.size());
  std::mutex mu;
  std::condition_variable work, done;
  std::deque<size_t> queue;         // to read and parse, waiting for a worker
  std::vector<std::string> spare;  // merged files' buffers, for the next reads
  bool closing = false;
  std::vector<std::thread> workers;
  // Stops and joins the workers however this function is left: a returned error, or an
  // exception (from a reader, a merge or the progress callback) going on to the caller.
  struct Stop {
    std::mutex& mu;
    std::condition_variable& work;
    bool& closing;
    std::deque<size_t>& queue;
    std::vector<std::thread>& workers;
    ~Stop() {
      {
        std::lock_guard lock(mu);
        closing = true;
        queue.clear();
      }
      work.notify_all();
      for (std::thread& t : workers) t.join();
    }
  } stop{mu, work, closing, queue, workers};
  for (size_t w = 0; w < threads; ++w) {
    workers.emplace_back([&] {
      SourceReader reader;
      std::unique_lock lock(mu);
      while (true) {
        work.wait(lock, [&] { return closing || !queue.empty(); });
        if (queue.empty()) return;
        size_t i = queue.front();
        queue.pop_front();
        lock.unlock();
        Slot& slot = slots[i];
        if (!slot.streamed) {
          std::string text;
          {
            std::lock_guard hold(mu);
            while (!spare.empty()) {  // a buffer that fits; one far larger than this file is freed
              std::string buffer = std::move(spare.back());
              spare.pop_back();
              if (buffer.capacity() <= 2 * files[i].size + (1 << 20)) {
                text = std::move(buffer);
                break;
              }
            }
          }
          auto t = Clock::now();
          absl::Status read;
          std::exception_ptr error;
          try {
            read = ReadFileInto(files[i].path, text, kSourcePadding);
          } catch (...) {
            error = std::current_exception();
          }
          const double ms = MsSince(t);
          lock.lock();
          slot.text = std::move(text);
          slot.read_status = std::move(read);
          slot.read_error = error;
          slot.read_ms = ms;
          slot.read = true;
          slot.parsed = !slot.read_status.ok() || error;  // nothing to parse
          done.notify_all();
          if (slot.parsed) continue;
          lock.unlock();
        }
        SnapshotObjects objects;
        absl::Status status;
        std::exception_ptr error;
        try {
          // A file that is most of the load (one large export) is read by all the threads.
          int inner = files[i].size * 2 > bytes ? static_cast<int>(cores) : 1;
          // Packed on this thread as they are read, while the other files are parsed.
          status = slot.streamed ? reader.ReadScimFile(files[i].path, objects, options_.limits, true, &slot.stamp)
                                 : reader.Read(slot.text, files[i].path, objects, options_.limits, true, inner, true);
        } catch (...) {
          error = std::current_exception();
        }
        lock.lock();
        slot.objects = std::move(objects);
        slot.status = std::move(status);
        slot.error = error;
        slot.parsed = true;
        done.notify_all();
      }
    });
  }

  absl::Status result;
  // Files [next_merge, next_hash) are hashed, [next_hash, next_read) queued.
  size_t next_read = 0, next_hash = 0, next_merge = 0, end = files.size();
  // A SCIM export in the line layout is stamped here and read by its worker, hashed and
  // read a block at a time (engine/codecs/scim_stream.h): its text is never held whole.
  // Any other file is read whole by its worker. Asked once per file.
  std::vector<int8_t> in_lines(files.size(), -1);
  auto streamed_at = [&](size_t i) {
    if (in_lines[i] < 0) in_lines[i] = files[i].error.ok() && ScimExportInLines(files[i].path);
    return in_lines[i] == 1;
  };
  while (next_merge < end) {
    const size_t ahead = next_read - next_merge;
    if (next_read < end && (ahead < window || (ahead == window && streamed_at(next_read)))) {
      const SourceFile& f = files[next_read];
      Slot& slot = slots[next_read];
      const bool streamed = streamed_at(next_read);
      absl::Status stamped = !f.error.ok() ? f.error : streamed ? StampFile(f.path, slot.stamp) : absl::OkStatus();
      {
        std::lock_guard lock(mu);
        slot.streamed = streamed;
        if (!stamped.ok() || streamed) {  // nothing for a worker to read (or parse, when not stamped)
          slot.read = true;
          slot.read_status = std::move(stamped);
          slot.parsed = !slot.read_status.ok();
        }
        if (!slot.parsed) queue.push_back(next_read);
        ++next_read;
      }
      work.notify_one();
      continue;
    }
    bool hash = false;
    {
      std::unique_lock lock(mu);
      done.wait(lock, [&] {
        hash = next_hash < std::min(next_read, end) && slots[next_hash].read;
        return hash || (next_merge < next_hash && slots[next_merge].parsed);
      });
    }
    if (hash) {
      Slot& slot = slots[next_hash];
      if (slot.read_error) std::rethrow_exception(slot.read_error);
      timings_.read_ms += slot.read_ms;
      if (!slot.read_status.ok()) {  // the files before it are still added, none after it
        result = slot.read_status;
        end = next_hash;
        continue;
      }
      slot.bytes = slot.streamed ? slot.stamp.size : slot.text.size();
      timings_.files++;
      timings_.bytes += slot.bytes;
      // Hashed while a worker parses it (both only read the text, which stays in its slot
      // until merged, after this); one read a block at a time is hashed later, when a
      // core is idle (DeferredHash).
      if (slot.streamed) hash_.AddFile(files[next_hash].path, slot.stamp);
      else hash_.AddText(slot.text);
      ++next_hash;
      continue;
    }
    Slot& slot = slots[next_merge];
    if (slot.error) std::rethrow_exception(slot.error);
    absl::Status merged = Merge(std::move(slot.objects), slot.status, files[next_merge].path, slot.bytes);
    {
      std::lock_guard lock(mu);
      // Parsed and hashed: the next read's buffer, unless every file is read.
      if (!slot.streamed && next_hash < end) spare.push_back(std::move(slot.text));
      if (next_hash == end) spare.clear();
    }
    slot = Slot{};
    ++next_merge;
    Report("read");
    if (!merged.ok()) {
      result = merged;
      break;
    }
  }
  timings_.parse_ms += MsSince(began) - (timings_.read_ms - read_before);
  return result;
}

// The passes in order (LoadPasses()), each timed. A strict build stops at the first
// error diagnostic, after the pass that reported it.
absl::StatusOr<std::shared_ptr<const Snapshot>> SnapshotBuilder::Build() {
  auto t = Clock::now();
  hash_.Start();  // the files still to hash, beside the passes (Finish, at the end)
  auto snap = std::make_shared<Snapshot>();
  Snapshot& s = *snap;
  for (auto& d : objects_.diagnostics) s.diagnostics_.push_back(d);
  BuildContext ctx(s, objects_);
  timings_.passes.clear();
  size_t checked = 0;
  for (const LoadPass& pass : LoadPasses()) {
    Report(pass.name);
    auto start = Clock::now();
    (ctx.*pass.run)();
    timings_.passes.push_back({std::string(pass.name), MsSince(start)});
    // Strings past the pool's 4 GiB got a stand-in id: the snapshot would be wrong.
    if (s.pool_.full())
      return MakeError(ErrorCode::kTooMany, absl::StrCat("more distinct names and values than a snapshot holds (",
                                                         StringPool::kMaxTextBytes, " bytes of text)"));
    if (options_.strict) {
      if (auto status = FirstError(s.diagnostics_, checked); !status.ok()) return status;
      checked = s.diagnostics_.size();
    }
  }
  // The files hashed later (DeferredHash), beside the passes.
  absl::StatusOr<SourceHash> hash = hash_.Finish();
  if (!hash.ok()) return hash.status();
  s.source_hash_ = hash->Hex();
  timings_.build_ms = MsSince(t);
  s.timings_ = timings_;
#ifdef __GLIBC__
  // The loaders' temporary objects leave the heap fragmented; give the holes back so
  // checks do not pay for coalescing them.
  malloc_trim(0);
#endif
  std::shared_ptr<const Snapshot> built = std::move(snap);
  UseHugePagesInBackground(built);  // engine/model/huge_pages.h: the check's misses, shorter
  return built;
}

absl::StatusOr<std::shared_ptr<const Snapshot>> LoadSnapshot(const std::vector<std::string>& paths,
                                                             const LoadOptions& options) {
  SnapshotBuilder builder(options);
  if (auto s = builder.AddPaths(paths); !s.ok()) return s;
  return builder.Build();
}

}  // namespace preflight
