// The TLS connection: OpenSSL through Asio's ssl::context and Beast's ssl_stream. Its
// own translation unit, so the plain server compiles without the OpenSSL headers and the
// two Session instantiations compile in parallel.

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "bindings/http/transport_session.h"

namespace preflight::http::transport_detail {

namespace ssl = boost::asio::ssl;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct TlsContext {
  ssl::context context{ssl::context::tls_server};
};

template <>
struct StreamOps<TlsStream> {
  template <class Handler>
  static void Handshake(TlsStream& stream, Handler&& handler) {
    stream.async_handshake(ssl::stream_base::server, std::forward<Handler>(handler));
  }
  template <class Handler>
  static void Shutdown(TlsStream& stream, Handler&& handler) {
    stream.async_shutdown(std::forward<Handler>(handler));
  }
};

absl::StatusOr<std::shared_ptr<TlsContext>> MakeTlsContext(const std::string& cert, const std::string& key) {
  auto tls = std::make_shared<TlsContext>();
  tls->context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  beast::error_code ec;
  tls->context.use_certificate_chain_file(cert, ec);
  if (ec) return absl::InvalidArgumentError(Cat("TLS certificate ", cert, ": ", ec.message()));
  tls->context.use_private_key_file(key, ssl::context::pem, ec);
  if (ec) return absl::InvalidArgumentError(Cat("TLS key ", key, ": ", ec.message()));
  return tls;
}

void StartTlsSession(ServerCore& server, tcp::socket&& socket, TlsContext& tls, bool over_capacity) {
  std::make_shared<Session<TlsStream>>(server, over_capacity, std::move(socket), tls.context)->Start();
}

}  // namespace preflight::http::transport_detail
