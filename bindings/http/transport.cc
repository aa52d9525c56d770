// Boost.Beast over Asio: the only translation unit that includes them.
//
// One io_context per thread, each run by its own thread (concurrency hint 1): a
// connection lives on one of them, chosen round robin at accept, so its handlers never
// run concurrently, the session needs no lock or strand, and the threads share no
// reactor. The service's handler runs inline on the connection's thread: a check takes
// microseconds, so handing it to another pool would cost more than it saves. Context 0
// also owns the acceptor, the signals and the drain timer.
//
// A connection's life: [TLS handshake] -> wait for a request (idle timeout; the first
// request of a connection gets the header timeout) -> read the header (header timeout,
// header size budget, 431) -> read the body (body timeout, body budget, 413) -> handle
// -> write (write timeout) -> keep-alive or close. A read that fails to parse is answered
// 400 and the connection is closed; a timeout drops the connection without an answer.

#include "bindings/http/transport.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/container/flat_hash_map.h"
#include "bindings/http/cat.h"
#include "bindings/http/json_text.h"

namespace preflight::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 8192;
constexpr std::chrono::milliseconds kLinger{1000};

bool IsParseError(const beast::error_code& ec) {
  static const beast::error_category& category = beast::error_code(bhttp::error::bad_target).category();
  return &ec.category() == &category;
}

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

class ServerImpl;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void CloseIfIdle() = 0;
};

template <bool kTls>
class Session : public SessionBase, public std::enable_shared_from_this<Session<kTls>> {
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

 public:
  Session(ServerImpl& server, tcp::socket&& socket, ssl::context* tls, bool over_capacity);
  ~Session() override;
  void Start();
  void CloseIfIdle() override;

 private:
  static Stream MakeStream(tcp::socket&& socket, ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      (void)tls;
      return Stream(std::move(socket));
    }
  }
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

  ServerImpl& server_;
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

class ServerImpl final : public Transport {
 public:
  ServerImpl(const TransportOptions& options, TransportHooks hooks)
      : options_(options),
        hooks_(std::move(hooks)),
        contexts_(MakeContexts(std::max(1, options.threads))),
        acceptor_(*contexts_[0]),
        signals_(*contexts_[0], SIGINT, SIGTERM, SIGHUP),
        drain_timer_(*contexts_[0]) {}

  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  absl::Status Open() {
    if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
      if (options_.tls_cert.empty() || options_.tls_key.empty())
        return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
      tls_.emplace(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      beast::error_code ec;
      tls_->use_certificate_chain_file(options_.tls_cert, ec);
      if (ec) return absl::InvalidArgumentError(Cat("TLS certificate ", options_.tls_cert, ": ", ec.message()));
      tls_->use_private_key_file(options_.tls_key, ssl::context::pem, ec);
      if (ec) return absl::InvalidArgumentError(Cat("TLS key ", options_.tls_key, ": ", ec.message()));
    }
    beast::error_code ec;
    std::string host = options_.host;
    if (host == "localhost") host = "127.0.0.1";
    auto address = net::ip::make_address(host, ec);
    if (ec) return absl::InvalidArgumentError(Cat("cannot listen on '", options_.host, "': not an IP address"));
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
      return absl::UnavailableError(Cat("cannot listen on ", options_.host, ":", options_.port, ": ", ec.message()));
    port_ = acceptor_.local_endpoint().port();
    return absl::OkStatus();
  }

  uint16_t port() const override { return port_; }
  bool tls() const override { return tls_.has_value(); }
  size_t active_connections() const override { return active_.load(std::memory_order_relaxed); }
  unsigned long long rejected_connections() const override { return rejected_.load(std::memory_order_relaxed); }
  bool draining() const override { return draining_.load(std::memory_order_acquire); }

  void Run() override {
    Accept();
    WaitForSignal();
    std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
    for (auto& c : contexts_) work.push_back(net::make_work_guard(*c));
    std::vector<std::thread> threads;
    for (size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([this, i] { contexts_[i]->run(); });
    contexts_[0]->run();
    for (auto& t : threads) t.join();
  }

  const TransportOptions& options() const { return options_; }
  const TransportHooks& hooks() const { return hooks_; }

  void Register(SessionBase* s, std::weak_ptr<SessionBase> w) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_[s] = std::move(w);
  }
  void Unregister(SessionBase* s) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(s);
    active_.fetch_sub(1, std::memory_order_relaxed);
  }
  void CountRejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void Accept() {
    net::io_context& next = *contexts_[next_context_++ % contexts_.size()];
    acceptor_.async_accept(next, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (acceptor_.is_open() && !draining()) Accept();
        return;
      }
      bool over = active_.fetch_add(1, std::memory_order_relaxed) >= options_.max_connections;
      if (over) CountRejected();
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls_) {
        std::make_shared<Session<true>>(*this, std::move(socket), &*tls_, over)->Start();
      } else {
        std::make_shared<Session<false>>(*this, std::move(socket), nullptr, over)->Start();
      }
      Accept();
    });
  }

  void WaitForSignal() {
    signals_.async_wait([this](beast::error_code ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        if (hooks_.on_reload_signal) hooks_.on_reload_signal();
        WaitForSignal();
        return;
      }
      BeginDrain();
    });
  }

  void BeginDrain() {
    if (draining_.exchange(true)) return;
    if (hooks_.on_drain) hooks_.on_drain();
    beast::error_code ignored;
    acceptor_.close(ignored);
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [_, w] : sessions_)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->CloseIfIdle();
    drain_deadline_ = Clock::now() + options_.drain_timeout;
    PollDrain();
  }

  void PollDrain() {
    if (active_.load() == 0 || Clock::now() >= drain_deadline_) {
      signals_.cancel();
      for (auto& c : contexts_) c->stop();
      return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(20));
    drain_timer_.async_wait([this](beast::error_code) { PollDrain(); });
  }

  // Declaration order matters: the contexts are destroyed after the I/O objects below it and
  // before the session bookkeeping above it, which the sessions it destroys still use.
  TransportOptions options_;
  TransportHooks hooks_;
  std::mutex mu_;
  absl::flat_hash_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
  std::atomic<size_t> active_{0};
  std::atomic<unsigned long long> rejected_{0};
  std::atomic<bool> draining_{false};
  Clock::time_point drain_deadline_;
  uint16_t port_ = 0;
  std::optional<ssl::context> tls_;
  size_t next_context_ = 0;  // used on context 0 only
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::steady_timer drain_timer_;
};

template <bool kTls>
Session<kTls>::Session(ServerImpl& server, tcp::socket&& socket, ssl::context* tls, bool over_capacity)
    : server_(server),
      options_(server.options()),
      stream_(MakeStream(std::move(socket), tls)),
      over_capacity_(over_capacity) {
  beast::error_code ec;
  auto endpoint = Lowest().socket().remote_endpoint(ec);
  if (!ec) remote_ = endpoint.address().to_string();
}

template <bool kTls>
Session<kTls>::~Session() {
  server_.Unregister(this);
}

template <bool kTls>
void Session<kTls>::Start() {
  server_.Register(this, this->weak_from_this());
  net::dispatch(Lowest().get_executor(), [self = this->shared_from_this()] { self->Begin(); });
}

template <bool kTls>
void Session<kTls>::CloseIfIdle() {
  net::post(Lowest().get_executor(), [self = this->shared_from_this()] {
    if (self->idle_) self->Close();
  });
}

template <bool kTls>
void Session<kTls>::Begin() {
  if constexpr (kTls) {
    Lowest().expires_after(options_.header_timeout);
    stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->Close();
      if (self->over_capacity_) return self->Reject(503, "Too many connections; try again later.");
      self->WaitForRequest(true);
    });
  } else {
    if (over_capacity_) return Reject(503, "Too many connections; try again later.");
    WaitForRequest(true);
  }
}

template <bool kTls>
void Session<kTls>::WaitForRequest(bool first) {
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

template <bool kTls>
void Session<kTls>::ReadHeader() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(std::min<size_t>(options_.max_header_bytes, UINT32_MAX)));
  parser_->body_limit(options_.max_body_bytes);
  started_ = Clock::now();
  Lowest().expires_after(options_.header_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

template <bool kTls>
void Session<kTls>::OnHeader(beast::error_code ec) {
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

template <bool kTls>
void Session<kTls>::ReadBody() {
  if (parser_->is_done()) return Dispatch();
  Lowest().expires_after(options_.body_timeout);
  bhttp::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->OnReadError(ec);
    self->Dispatch();
  });
}

template <bool kTls>
void Session<kTls>::OnReadError(beast::error_code ec) {
  if (ec == bhttp::error::body_limit)
    return Reject(413, Cat("The request body exceeds max_input_bytes (", options_.max_body_bytes, ")."),
                  "tooMany");
  if (ec == bhttp::error::header_limit)
    return Reject(431, Cat("The request header exceeds ", options_.max_header_bytes, " bytes."), "tooMany");
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return Close();
  if (IsParseError(ec)) return Reject(400, Cat("Malformed HTTP request: ", ec.message(), "."), "invalidSyntax");
  Close();  // timeout, reset, TLS failure: nothing to answer
}

template <bool kTls>
void Session<kTls>::Dispatch() {
  auto& request = parser_->get();
  HttpRequest in;
  in.method = View(request.method_string());
  in.target = View(request.target());
  if (auto it = request.find(bhttp::field::authorization); it != request.end()) in.authorization = View(it->value());
  if (auto it = request.find(bhttp::field::content_type); it != request.end()) in.content_type = View(it->value());
  in.body = request.body();
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

template <bool kTls>
void Session<kTls>::Respond(HttpResponse& out, const HttpRequest& request, bool keep_alive) {
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

template <bool kTls>
void Session<kTls>::Reject(int status, std::string_view detail, std::string_view scim_type) {
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

template <bool kTls>
void Session<kTls>::Write() {
  Lowest().expires_after(options_.write_timeout);
  bhttp::async_write(stream_, response_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->Close();
    if (!self->keep_alive_) return self->Shutdown();
    self->parser_.reset();
    self->WaitForRequest(false);
  });
}

template <bool kTls>
void Session<kTls>::Shutdown() {
  if constexpr (kTls) {
    Lowest().expires_after(kLinger);
    stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->Close(); });
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

template <bool kTls>
void Session<kTls>::Linger() {
  Lowest().async_read_some(net::buffer(discard_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->Close();
    self->Linger();
  });
}

template <bool kTls>
void Session<kTls>::Close() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ignored;
  Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  Lowest().close();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Transport>> Transport::Bind(const TransportOptions& options, TransportHooks hooks) {
  auto server = std::make_unique<ServerImpl>(options, std::move(hooks));
  if (absl::Status s = server->Open(); !s.ok()) return s;
  return std::unique_ptr<Transport>(std::move(server));
}

}  // namespace preflight::http
