// `_preflight.RowStream`: Engine::Scan / Engine::Impact run on a native thread, their
// JSON-lines output handed to Python chunk by chunk through a small bounded queue, so
// that the GIL is free while the engine runs and memory stays bounded however many rows
// the run produces. The pure-Python layer turns the lines into dicts.

#include <pybind11/stl.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bindings/python/errors.h"
#include "bindings/python/register.h"

namespace preflight::python {
namespace {

class RowStream {
 public:
  RowStream(std::shared_ptr<const Engine> engine, ImpactParams params, bool impact,
            std::shared_ptr<const Engine> after = nullptr)
      : engine_(std::move(engine)), after_(std::move(after)), params_(std::move(params)) {
    params_.format = "jsonl";
    worker_ = std::thread([this, impact] { Run(impact); });
  }
  // The worker never takes the GIL, so joining it with the GIL held is safe; a
  // destructor (run by Python's GC, maybe at interpreter exit) does not release it.
  ~RowStream() { Stop(false); }

  // The next chunk of JSON lines, or None at the end; raises the run's error.
  std::optional<std::string> Next() {
    std::string chunk;
    absl::Status failure;
    {
      py::gil_scoped_release release;
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || done_; });
      if (!queue_.empty()) {
        chunk = std::move(queue_.front());
        queue_.pop_front();
        cv_.notify_all();
      } else {
        failure = status_;
        if (failure.ok()) return std::nullopt;
      }
    }
    if (!failure.ok()) RaiseStatus(failure);
    return chunk;
  }

  // The run's summary JSON, once Next() returned None.
  std::string Summary() {
    std::lock_guard lock(mu_);
    return summary_;
  }

  // Stops the run (the engine stops at its next chunk) and waits for the thread.
  void Close() { Stop(true); }

 private:
  void Stop(bool release_gil) {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
      cv_.notify_all();
    }
    if (!worker_.joinable()) return;
    if (release_gil) {
      py::gil_scoped_release release;
      worker_.join();
    } else {
      worker_.join();
    }
  }


  static constexpr size_t kMaxQueued = 8;

  void Run(bool impact) {
    TextSink sink = [this](std::string_view text) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return cancelled_ || queue_.size() < kMaxQueued; });
      if (cancelled_) return false;
      queue_.emplace_back(text);
      cv_.notify_all();
      return true;
    };
    const ScanParams& scan = params_;
    absl::StatusOr<std::string> summary = !impact ? engine_->Scan(scan, sink)
                                          : after_ ? engine_->ImpactTo(*after_, scan, sink)
                                                   : engine_->Impact(params_, sink);
    std::lock_guard lock(mu_);
    if (summary.ok()) summary_ = *std::move(summary);
    else status_ = summary.status();
    done_ = true;
    cv_.notify_all();
  }

  std::shared_ptr<const Engine> engine_, after_;
  ImpactParams params_;
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool done_ = false, cancelled_ = false;
  absl::Status status_;
  std::string summary_;
};

ImpactParams Params(const std::string& filter, const std::optional<std::vector<std::string>>& policies, size_t start,
                    std::optional<size_t> stop, int threads) {
  ImpactParams p;
  p.filter = filter;
  p.policies = policies;
  p.start = start;
  if (stop) p.stop = *stop;
  p.threads = threads;
  return p;
}

}  // namespace

void RegisterScan(py::module_& m) {
  py::class_<RowStream>(m, "RowStream")
      .def("next", &RowStream::Next)
      .def("summary", &RowStream::Summary)
      .def("close", &RowStream::Close);
  m.def(
      "scan_stream",
      [](py::handle engine, const std::string& filter, const std::optional<std::vector<std::string>>& policies,
                  size_t start, std::optional<size_t> stop, int threads) {
        return std::make_unique<RowStream>(EngineOf(engine), Params(filter, policies, start, stop, threads), false);
      },
      py::arg("engine"), py::arg("filter"), py::arg("policies"), py::arg("start"), py::arg("stop"),
      py::arg("threads"));
  m.def(
      "impact_stream",
      [](py::handle engine, const std::vector<std::string>& changes, const std::vector<std::string>& activate,
                  const std::string& plan, const std::string& plan_type, const std::string& filter,
                  const std::optional<std::vector<std::string>>& policies, size_t start, std::optional<size_t> stop,
                  int threads, py::object after) {
        ImpactParams p = Params(filter, policies, start, stop, threads);
        p.changes = changes;
        p.activate = activate;
        p.plan = plan;
        p.plan_type = plan_type;
        std::shared_ptr<const Engine> to = after.is_none() ? nullptr : EngineOf(after);
        return std::make_unique<RowStream>(EngineOf(engine), std::move(p), true, std::move(to));
      },
      py::arg("engine"), py::arg("changes"), py::arg("activate"), py::arg("plan"), py::arg("plan_type"),
      py::arg("filter"), py::arg("policies"), py::arg("start"), py::arg("stop"), py::arg("threads"),
      py::arg("after") = py::none());
}

}  // namespace preflight::python
