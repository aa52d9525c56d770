#pragma once
// The HTTP/1.1 server: Boost.Beast over Asio, keep-alive connections, optional TLS, the
// budgets against bad clients (body and header size, read and idle timeouts, connection
// cap, malformed HTTP answered 400 and closed), signals, and the graceful drain.
// Beast lives only in transport.cc; this header is plain C++.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "bindings/http/http_message.h"

namespace preflight::http {

struct TransportOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: the kernel picks one (see Transport::port())
  int threads = 1;
  size_t max_body_bytes = 64u << 20;
  size_t max_header_bytes = 16u << 10;
  size_t max_connections = 1024;
  std::chrono::milliseconds header_timeout{10'000};  // from the first byte of a request to its last header
  std::chrono::milliseconds body_timeout{30'000};    // from the headers to the last body byte
  std::chrono::milliseconds idle_timeout{60'000};    // a keep-alive connection with no request
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds drain_timeout{10'000};   // SIGTERM: how long in-flight requests may take
  std::string tls_cert;  // PEM chain; TLS when both are set
  std::string tls_key;
  std::string server_name = "preflight";  // the Server header
};

struct TransportHooks {
  // Called on an io thread for every complete request; fills the response.
  std::function<void(const HttpRequest&, HttpResponse&)> handle;
  // Called after every response (the service's and the transport's own rejections).
  std::function<void(const HttpRequest&, const HttpResponse&, double seconds)> done;
  // Extra header for the transport's own answers (413, 431, 400, 503), which never reach
  // `handle`: the service names its snapshot on every response.
  std::function<std::pair<std::string, std::string>()> rejection_header;
  std::function<void()> on_reload_signal;  // SIGHUP
  std::function<void()> on_drain;          // SIGTERM / SIGINT, once
};

class Transport {
 public:
  // Binds and listens (errors: address in use, bad address, unreadable certificate).
  static absl::StatusOr<std::unique_ptr<Transport>> Bind(const TransportOptions& options, TransportHooks hooks);
  virtual ~Transport() = default;
  virtual uint16_t port() const = 0;
  virtual bool tls() const = 0;
  // Serves on options.threads threads until a SIGTERM/SIGINT drain completes.
  virtual void Run() = 0;
  virtual size_t active_connections() const = 0;
  virtual unsigned long long rejected_connections() const = 0;
  virtual bool draining() const = 0;
};

}  // namespace preflight::http
