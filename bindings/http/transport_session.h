#pragma once
// Internal to transport.cc and transport_tls.cc: the connection (Session) as a template
// over its stream, and the server state sessions use (ServerCore). Each of the two
// translation units instantiates one Session: plain TCP in transport.cc, TLS in
// transport_tls.cc, so they compile in parallel and only the TLS one includes OpenSSL.
//
// A connection's life: [TLS handshake] -> wait for a request (idle timeout; the first
// request of a connection gets the header timeout) -> read the header (header timeout,
// header size budget, 431) -> read the body (body timeout, body budget, 413) -> handle
// -> write (write timeout) -> keep-alive or close. A read that fails to parse is answered
// 400 and the connection is closed; a timeout drops the connection without an answer.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/container/flat_hash_map.h"
#include "bindings/http/cat.h"
#include "bindings/http/json_text.h"
#include "bindings/http/transport.h"

namespace preflight::http::transport_detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 8192;
constexpr std::chrono::milliseconds kLinger{1000};

inline bool IsParseError(const beast::error_code& ec) {
  static const beast::error_category& category = beast::error_code(bhttp::error::bad_target).category();
  return &ec.category() == &category;
}

inline std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void CloseIfIdle() = 0;
};

// What sessions need of the server: the options, the hooks, the drain flag and the
// registry of live connections.
class ServerCore {
 public:
  ServerCore(const TransportOptions& options, TransportHooks hooks) : options_(options), hooks_(std::move(hooks)) {}
  const TransportOptions& options() const { return options_; }
  const TransportHooks& hooks() const { return hooks_; }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  void Register(SessionBase* s, std::weak_ptr<SessionBase> w) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_[s] = std::move(w);
  }
  void Unregister(SessionBase* s) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(s);
    active_.fetch_sub(1, std::memory_order_relaxed);
  }

 protected:
  TransportOptions options_;
  TransportHooks hooks_;
  std::mutex mu_;
  absl::flat_hash_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
  std::atomic<size_t> active_{0};
  std::atomic<unsigned long long> rejected_{0};
  std::atomic<bool> draining_{false};
};

// The TLS steps, specialised in transport_tls.cc for the TLS stream.
template <class Stream>
struct StreamOps;

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... StreamArgs>
  Session(ServerCore& server, bool over_capacity, StreamArgs&&... stream_args);
  ~Session() override;
  void Start();
  void CloseIfIdle() override;

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  void Begin();
  void WaitForRequest(bool first);
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnReadError(beast::error_code ec);
  void Dispatch();
  void Reject(int status, std::string_view detail, std::string_view scim_type = "");
  void Respond(HttpResponse& out, const HttpRequest& request, bool keep_alive);
  void Write();
  void Shutdown();
  void Linger();
  void Close();

  ServerCore& server_;
  const TransportOptions& options_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  std::string remote_;
  Clock::time_point started_;
  bool over_capacity_;
  bool idle_ = false;
  bool closed_ = false;
  bool keep_alive_ = false;
  std::array<char, 4096> discard_;
};

template <class Stream>
template <class... StreamArgs>
Session<Stream>::Session(ServerCore& server, bool over_capacity, StreamArgs&&... stream_args)
    : server_(server),
      options_(server.options()),
      stream_(std::forward<StreamArgs>(stream_args)...),
      over_capacity_(over_capacity) {
  beast::error_code ec;
  auto endpoint = Lowest().socket().remote_endpoint(ec);
  if (!ec) remote_ = endpoint.address().to_string();
}

template <class Stream>
Session<Stream>::~Session() {
  server_.Unregister(this);
}

template <class Stream>
void Session<Stream>::Start() {
  server_.Register(this, this->weak_from_this());
  net::dispatch(Lowest().get_executor(), [self = this->shared_from_this()] { self->Begin(); });
}

template <class Stream>
void Session<Stream>::CloseIfIdle() {
  net::post(Lowest().get_executor(), [self = this->shared_from_this()] {
    if (self->idle_) self->Close();
  });
}

template <class Stream>
void Session<Stream>::Begin() {
  if constexpr (kTls) {
    Lowest().expires_after(options_.header_timeout);
    StreamOps<Stream>::Handshake(stream_, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->Close();
      if (self->over_capacity_) return self->Reject(503, "Too many connections; try again later.");
      self->WaitForRequest(true);
    });
  } else {
    if (over_capacity_) return Reject(503, "Too many connections; try again later.");
    WaitForRequest(true);
  }
}

template <class Stream>
void Session<Stream>::WaitForRequest(bool first) {
  if (server_.draining() && !first) return Shutdown();
  if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
  idle_ = true;
  Lowest().expires_after(first ? options_.header_timeout : options_.idle_timeout);
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                            self->idle_ = false;
                            if (ec) return self->Close();
                            self->buffer_.commit(n);
                            self->ReadHeader();
                          });
}

template <class Stream>
void Session<Stream>::ReadHeader() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(std::min<size_t>(options_.max_header_bytes, UINT32_MAX)));
  parser_->body_limit(options_.max_body_bytes);
  started_ = Clock::now();
  Lowest().expires_after(options_.header_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

template <class Stream>
void Session<Stream>::OnHeader(beast::error_code ec) {
  if (ec) return OnReadError(ec);
  auto& request = parser_->get();
  auto expect = request.find(bhttp::field::expect);
  if (expect != request.end() && beast::iequals(expect->value(), "100-continue") && !parser_->is_done()) {
    auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, request.version());
    Lowest().expires_after(options_.write_timeout);
    bhttp::async_write(stream_, *cont, [self = this->shared_from_this(), cont](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->ReadBody();
    });
    return;
  }
  ReadBody();
}

template <class Stream>
void Session<Stream>::ReadBody() {
  if (parser_->is_done()) return Dispatch();
  Lowest().expires_after(options_.body_timeout);
  bhttp::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->OnReadError(ec);
    self->Dispatch();
  });
}

template <class Stream>
void Session<Stream>::OnReadError(beast::error_code ec) {
  if (ec == bhttp::error::body_limit)
    return Reject(413, Cat("The request body exceeds max_input_bytes (", options_.max_body_bytes, ")."),
                  "tooMany");
  if (ec == bhttp::error::header_limit)
    return Reject(431, Cat("The request header exceeds ", options_.max_header_bytes, " bytes."), "tooMany");
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return Close();
  if (IsParseError(ec)) return Reject(400, Cat("Malformed HTTP request: ", ec.message(), "."), "invalidSyntax");
  Close();  // timeout, reset, TLS failure: nothing to answer
}

template <class Stream>
void Session<Stream>::Dispatch() {
  auto& request = parser_->get();
  HttpRequest in;
  in.method = View(request.method_string());
  in.target = View(request.target());
  if (auto it = request.find(bhttp::field::authorization); it != request.end()) in.authorization = View(it->value());
  if (auto it = request.find(bhttp::field::content_type); it != request.end()) in.content_type = View(it->value());
  in.body = request.body();
  for (const auto& field : request) in.headers.emplace_back(View(field.name_string()), View(field.value()));
  in.remote = remote_;
  in.tls = kTls;
  HttpResponse out;
  try {
    server_.hooks().handle(in, out);
  } catch (const std::exception& e) {
    out = HttpResponse{};
    out.status = 500;
    out.body = ScimError(500, Cat("internal error: ", e.what()));
  }
  Respond(out, in, request.keep_alive() && !server_.draining());
}

template <class Stream>
void Session<Stream>::Respond(HttpResponse& out, const HttpRequest& request, bool keep_alive) {
  unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
  response_ = {};
  response_.version(version);
  response_.result(static_cast<unsigned>(out.status));
  response_.set(bhttp::field::server, options_.server_name);
  response_.set(bhttp::field::content_type, out.content_type);
  for (auto& [name, value] : out.headers) response_.set(name, value);
  response_.keep_alive(keep_alive);
  response_.body() = std::move(out.body);
  response_.prepare_payload();
  // HEAD: the headers a GET would get (Content-Length included), no body.
  if (parser_ && parser_->is_header_done() && parser_->get().method() == bhttp::verb::head) response_.body().clear();
  keep_alive_ = keep_alive;
  if (server_.hooks().done) {
    double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    out.body.clear();
    HttpResponse logged = std::move(out);
    logged.body.assign(std::to_string(response_.payload_size().value_or(0)));  // the access log's size, not the bytes
    server_.hooks().done(request, logged, seconds);
  }
  Write();
}

template <class Stream>
void Session<Stream>::Reject(int status, std::string_view detail, std::string_view scim_type) {
  HttpResponse out;
  out.status = status;
  out.body = ScimError(status, detail, scim_type);
  if (server_.hooks().rejection_header) out.headers.push_back(server_.hooks().rejection_header());
  HttpRequest in;
  in.remote = remote_;
  if (parser_ && parser_->is_header_done()) {
    in.method = View(parser_->get().method_string());
    in.target = View(parser_->get().target());
  } else {
    started_ = Clock::now();
  }
  in.tls = kTls;
  Respond(out, in, false);
}

template <class Stream>
void Session<Stream>::Write() {
  Lowest().expires_after(options_.write_timeout);
  bhttp::async_write(stream_, response_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->Close();
    if (!self->keep_alive_) return self->Shutdown();
    self->parser_.reset();
    self->WaitForRequest(false);
  });
}

template <class Stream>
void Session<Stream>::Shutdown() {
  if constexpr (kTls) {
    Lowest().expires_after(kLinger);
    StreamOps<Stream>::Shutdown(stream_, [self = this->shared_from_this()](beast::error_code) { self->Close(); });
  } else {
    // Half-close, then read what the client still sends for a moment: closing with
    // unread bytes would reset the connection and the client might never see the answer
    // (a 413 for a body it is still sending).
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest().expires_after(kLinger);
    Linger();
  }
}

template <class Stream>
void Session<Stream>::Linger() {
  Lowest().async_read_some(net::buffer(discard_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->Close();
    self->Linger();
  });
}

template <class Stream>
void Session<Stream>::Close() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ignored;
  Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  Lowest().close();
}


// Each made and started by the translation unit that instantiates its Session.
void StartPlainSession(ServerCore& server, tcp::socket&& socket, bool over_capacity);
struct TlsContext;  // an ssl::context, complete only in transport_tls.cc
absl::StatusOr<std::shared_ptr<TlsContext>> MakeTlsContext(const std::string& cert, const std::string& key);
void StartTlsSession(ServerCore& server, tcp::socket&& socket, TlsContext& tls, bool over_capacity);

}  // namespace preflight::http::transport_detail
