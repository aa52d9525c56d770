#include "engine/load/deferred_hash.h"

#include "absl/strings/str_cat.h"
#include "engine/util/error.h"

namespace preflight {

DeferredHash::~DeferredHash() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeferredHash::AddFile(std::string path, const FileStamp& stamp) {
  std::lock_guard lock(mu_);
  pending_.push_back({std::move(path), stamp, {}});
}

void DeferredHash::Start() {
  std::lock_guard lock(mu_);
  if (pending_.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!closing_ && HashNext(lock)) {
    }
  });
}

void DeferredHash::AddText(std::string_view text) {
  std::unique_lock lock(mu_);
  if ((busy_ || !pending_.empty()) && text.size() <= kCopiedTextBytes) {
    pending_.push_back({{}, {}, std::string(text)});
    return;
  }
  Drain(lock);
  busy_ = true;
  lock.unlock();
  hash_.Add(text);
  lock.lock();
  busy_ = false;
  changed_.notify_all();
}

absl::StatusOr<SourceHash> DeferredHash::Finish() {
  std::unique_lock lock(mu_);
  Drain(lock);
  lock.unlock();
  if (thread_.joinable()) thread_.join();  // it stops when nothing is left
  lock.lock();
  std::string().swap(buffer_);
  if (!status_.ok()) return status_;
  return hash_;
}

bool DeferredHash::HashNext(std::unique_lock<std::mutex>& lock) {
  if (busy_ || pending_.empty()) return false;
  Source source = std::move(pending_.front());
  pending_.pop_front();
  busy_ = true;
  lock.unlock();
  Hash(source);
  lock.lock();
  busy_ = false;
  changed_.notify_all();
  return true;
}

void DeferredHash::Drain(std::unique_lock<std::mutex>& lock) {
  while (busy_ || !pending_.empty())
    if (!HashNext(lock)) changed_.wait(lock);
}

void DeferredHash::Hash(const Source& source) {
  if (!status_.ok()) return;  // the load fails with the first error
  if (source.path.empty()) {
    hash_.Add(source.text);
    return;
  }
  FileStamp stamp;
  status_ = ReadBlocks(
      source.path, buffer_, [&](uint64_t size) { hash_.Start(size); }, [&](std::string_view b) { hash_.Part(b); },
      &stamp);
  if (status_.ok() && !(stamp == source.stamp))
    status_ = MakeError(ErrorCode::kInvalidValue, "the file changed while the snapshot was loaded; load it again",
                        Location{source.path});
}

}  // namespace preflight
