// Boost.Beast over Asio, plain TCP and the server. The TLS connection is in
// transport_tls.cc; the connection itself (Session) in transport_session.h.
//
// One io_context per thread, each run by its own thread (concurrency hint 1): a
// connection lives on one of them, chosen round robin at accept, so its handlers never
// run concurrently, the session needs no lock or strand, and the threads share no
// reactor. The service's handler runs inline on the connection's thread: a check takes
// microseconds, so handing it to another pool would cost more than it saves. Context 0
// also owns the acceptor, the signals and the drain timer.

#include "bindings/http/transport.h"

#include <algorithm>
#include <csignal>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bindings/http/transport_session.h"

namespace preflight::http {
namespace transport_detail {

void StartPlainSession(ServerCore& server, tcp::socket&& socket, bool over_capacity) {
  std::make_shared<Session<beast::tcp_stream>>(server, over_capacity, std::move(socket))->Start();
}

namespace {

class ServerImpl final : public Transport, public ServerCore {
 public:
  ServerImpl(const TransportOptions& options, TransportHooks hooks)
      : ServerCore(options, std::move(hooks)),
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
      auto tls = MakeTlsContext(options_.tls_cert, options_.tls_key);
      if (!tls.ok()) return tls.status();
      tls_ = *std::move(tls);
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
  bool tls() const override { return tls_ != nullptr; }
  size_t active_connections() const override { return active_.load(std::memory_order_relaxed); }
  unsigned long long rejected_connections() const override { return rejected_.load(std::memory_order_relaxed); }
  bool draining() const override { return ServerCore::draining(); }

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
        StartTlsSession(*this, std::move(socket), *tls_, over);
      } else {
        StartPlainSession(*this, std::move(socket), over);
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

  // Declaration order matters: the contexts are destroyed after the I/O objects below them
  // and before the session bookkeeping in ServerCore, which the sessions they destroy use.
  Clock::time_point drain_deadline_;
  uint16_t port_ = 0;
  std::shared_ptr<TlsContext> tls_;
  size_t next_context_ = 0;  // used on context 0 only
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::steady_timer drain_timer_;
};

}  // namespace
}  // namespace transport_detail

absl::StatusOr<std::unique_ptr<Transport>> Transport::Bind(const TransportOptions& options, TransportHooks hooks) {
  auto server = std::make_unique<transport_detail::ServerImpl>(options, std::move(hooks));
  if (absl::Status s = server->Open(); !s.ok()) return s;
  return std::unique_ptr<Transport>(std::move(server));
}

}  // namespace preflight::http
