// `preflight serve`: options, the first load, the reloader (SIGHUP, --watch), the
// transport, and the drain; and `preflight credentials`.

#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <thread>

#include "bindings/http/cat.h"
#include "bindings/http/command_options.h"
#include "bindings/http/auth.h"
#include "bindings/http/json_text.h"
#include "bindings/http/metrics.h"
#include "bindings/http/serve.h"
#include "bindings/http/service.h"
#include "bindings/http/transport.h"
#include "bindings/http/upstream.h"
#include "engine/preflight.h"

namespace preflight::http {
namespace {

constexpr char kServeUsage[] = R"(usage: preflight serve --snapshot PATH... [options]

IdentityIQ's SCIM API answered from the snapshot: POST .../CheckedPolicyViolations,
GET .../Users|Accounts|Entitlements|Roles|Applications[/{id}], POST .../{type}/.search,
POST .../Bulk, GET .../ServiceProviderConfig|ResourceTypes|Schemas; /healthz, /readyz, /metrics.

  --snapshot PATH            a snapshot file or directory (repeatable)
  --listen HOST:PORT         default 127.0.0.1:8080; port 0 picks a free port (printed on stdout)
  --base-path P              SCIM base path (repeatable; default /identityiq/scim/v2 and /scim/v2)
  --credentials FILE         HTTP Basic users (`preflight credentials add`)
  --tokens FILE              Bearer tokens (`preflight credentials token`)
  --tls-cert FILE --tls-key FILE    serve HTTPS (PEM)
  --threads N                I/O threads (default: the cores)
  --check-status 200|201     status of a successful check (default 200, as IdentityIQ 7.2-8.1)
  --watch                    reload when a snapshot file changes (polled every --watch-interval S, 1)
  --allow-partial            serve a snapshot that loaded with errors
  --image-verify full|lazy   how a compiled image is verified when (re)loaded: full (default) before
                             it is served; lazy: at open the header and small sections, each record
                             as a request reads it, the rest in the background (a corruption found
                             there fails every later request and /readyz)
  --progress-interval S      while a snapshot loads (at start and on reloads), log a
                             load_progress event every S seconds (default 5)
  --access-log FILE|-        JSON lines, one a request (- for stderr)
  --max-connections N        1024      --max-header-bytes N     16384
  --header-timeout S         10        --body-timeout S         30
  --idle-timeout S           60        --drain-timeout S        10
  --bulk-max-operations N    1000
  --upstream BASE            forward what Preflight does not answer (writes, LaunchedWorkflows,
                             TaskResults, ...) verbatim to IdentityIQ at BASE (scheme://host:port)
  --gate                     with --upstream: check a POST .../LaunchedWorkflows plan first; a
                             violating plan is answered 403 and never reaches IdentityIQ
  --upstream-timeout S       30 (then 504; an unreachable upstream is 502)
  --upstream-ca-file FILE    PEM CA bundle for an https upstream
  --limit NAME=N             an engine budget (see `preflight --help`); max_input_bytes is also
                             the request body limit (413)
A non-loopback --listen needs --credentials or --tokens. SIGHUP reloads the snapshot in the
background (a failed reload keeps the old one); SIGTERM stops accepting, lets requests in
flight finish (up to --drain-timeout) and exits 0.
)";

constexpr char kCredentialsUsage[] = R"(usage:
  preflight credentials add --user NAME --file FILE     (the password is read from standard input)
  preflight credentials token --name NAME --file FILE   (prints a new Bearer token, once)
)";

using Options = CommandOptions;

Options ParseOptions(int argc, char** argv, const std::vector<std::string>& flags,
                     const std::vector<std::string>& valued, int first) {
  Options out;
  auto known = [](const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      out.error = Cat("unexpected argument '", a, "'");
      return out;
    }
    std::string name = a.substr(2), value;
    size_t eq = name.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (known(flags, name)) {
      out.values[name].push_back("true");
    } else if (known(valued, name)) {
      if (!inline_value) {
        if (i + 1 >= argc) {
          out.error = Cat("--", name, " needs a value");
          return out;
        }
        value = argv[++i];
      }
      out.values[name].push_back(value);
    } else {
      out.error = Cat("unknown option --", name);
      return out;
    }
  }
  return out;
}

int Fail(std::string_view message) {
  std::fprintf(stderr, "preflight: %.*s\n", static_cast<int>(message.size()), message.data());
  return 2;
}

bool ParseUnsigned(const std::string& text, uint64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool ParseSeconds(const std::string& text, std::chrono::milliseconds& out) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !(v > 0) || v > 86400 * 7) return false;
  out = std::chrono::milliseconds(static_cast<long long>(v * 1000 + 0.5));
  return true;
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// Logs one event as a JSON line on stderr.
class EventLog {
 public:
  void Event(std::string_view event, std::string fields = "") {
    std::string line = Cat("{\"event\":\"", event, "\"", fields.empty() ? "" : ",", fields, "}\n");
    std::lock_guard<std::mutex> lock(mu_);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }

 private:
  std::mutex mu_;
};

// A load's progress as load_progress events, one every `interval` of the load at most (a
// load shorter than the interval logs none): files, bytes and identities so far, and the
// stage ("read", then each pass). Operators watching a long load (a minute at a million
// identities from exports) see it move; `reload` tells a reload's events from the start's.
LoadProgressFn ProgressEvents(EventLog& log, std::chrono::milliseconds interval, bool reload) {
  const double every = std::chrono::duration<double>(interval).count();
  return [&log, every, reload, last = 0.0](const LoadProgress& p) mutable {
    if (p.seconds < last) last = 0;  // the next load
    if (p.seconds - last < every) return;
    last = p.seconds;
    log.Event("load_progress",
              Cat("\"reload\":", reload ? "true" : "false", ",\"stage\":", JsonString(std::string(p.stage)),
                  ",\"files\":", p.files, ",\"filesTotal\":", p.files_total, ",\"bytes\":", p.bytes,
                  ",\"bytesTotal\":", p.bytes_total, ",\"identities\":", p.identities, ",\"seconds\":", p.seconds));
  };
}

// A fingerprint of the snapshot's files (path, size, modification time) for --watch.
std::string Fingerprint(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> items;
  std::error_code ec;
  auto add = [&](const fs::path& p) {
    auto size = fs::file_size(p, ec);
    auto time = fs::last_write_time(p, ec);
    items.push_back(Cat(p.string(), "|", ec ? 0 : size, "|",
                                 ec ? 0 : static_cast<long long>(time.time_since_epoch().count())));
  };
  for (const std::string& path : paths) {
    if (fs::is_directory(path, ec)) {
      for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec))
        if (it->is_regular_file(ec)) add(it->path());
    } else {
      add(path);
    }
  }
  std::sort(items.begin(), items.end());
  std::string out;
  for (auto& i : items) CatTo(out, i, "\n");
  return out;
}

// Loads a new engine off the request path and publishes it. SIGHUP and --watch only
// set a flag; the single worker thread coalesces them, so a burst of signals loads once.
class Reloader {
 public:
  Reloader(std::vector<std::string> paths, EngineOptions options, Service& service, Metrics& metrics, EventLog& log,
           bool watch, std::chrono::milliseconds interval)
      : paths_(std::move(paths)), options_(options), service_(service), metrics_(metrics), log_(log), watch_(watch),
        interval_(interval) {
    if (watch_) fingerprint_ = Fingerprint(paths_);
    worker_ = std::thread([this] { Loop(); });
  }
  ~Reloader() { Stop(); }

  void Request() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_ = true;
    }
    cv_.notify_one();
  }
  bool busy() const { return busy_.load(); }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (worker_.joinable()) worker_.join();
  }

 private:
  void Loop() {
    std::string seen;  // a changed fingerprint, reloaded once it holds still for one interval
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, interval_, [this] { return stop_ || pending_; });
      if (stop_) break;
      bool reload = pending_;
      pending_ = false;
      if (!reload && watch_) {
        lock.unlock();
        std::string now = Fingerprint(paths_);
        lock.lock();
        if (now != fingerprint_) {
          if (now == seen) {
            reload = true;
            fingerprint_ = now;
          }
          seen = now;
        }
      }
      if (!reload) continue;
      busy_ = true;
      lock.unlock();
      Load();
      lock.lock();
      busy_ = false;
    }
  }

  void Load() {
    auto started = std::chrono::steady_clock::now();
    std::string before = watch_ ? Fingerprint(paths_) : "";
    auto engine = Engine::Load(paths_, options_);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (watch_) fingerprint_ = before;  // after a failure too: retry on the next change (or SIGHUP), not every poll
    if (!engine.ok()) {
      metrics_.reload_failures.fetch_add(1);
      std::string detail(engine.status().message());
      log_.Event("reload_failed", Cat("\"seconds\":", seconds, ",\"error\":", JsonString(detail)));
      return;
    }
    std::string hash = (*engine)->info().source_hash;
    uint64_t generation = service_.Publish(*std::move(engine));
    metrics_.reloads.fetch_add(1);
    log_.Event("reload", Cat("\"generation\":", generation, ",\"hash\":\"", hash, "\",\"seconds\":", seconds));
  }

  std::vector<std::string> paths_;
  EngineOptions options_;
  Service& service_;
  Metrics& metrics_;
  EventLog& log_;
  bool watch_;
  std::chrono::milliseconds interval_;
  std::string fingerprint_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stop_ = false;
  std::atomic<bool> busy_{false};
  std::thread worker_;
};

std::string ReadPassword() {
  bool tty = ::isatty(STDIN_FILENO);
  termios old{};
  if (tty) {
    std::fprintf(stderr, "password: ");
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  if (tty) {
    std::getline(std::cin, password);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  } else {
    password.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  }
  return password;
}

// The listener's and the service's options (everything but the snapshot, the credentials and
// the upstream); an error message, or "" when they all read.
std::string ReadServeOptions(const Options& opt, size_t max_body_bytes, TransportOptions& transport,
                             ServiceOptions& service_options, std::chrono::milliseconds& watch_interval,
                             std::chrono::milliseconds& progress_interval) {
  std::string listen = opt.Get("listen").value_or("127.0.0.1:8080");
  {
    size_t colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? "127.0.0.1" : listen.substr(0, colon);
    std::string port = colon == std::string::npos ? listen : listen.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "127.0.0.1";
    uint64_t p = 0;
    if (!ParseUnsigned(port, p) || p > 65535) return Cat("--listen: bad port in '", listen, "'");
    transport.host = host;
    transport.port = static_cast<uint16_t>(p);
  }
  uint64_t n = 0;
  transport.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (auto v = opt.Get("threads")) {
    if (!ParseUnsigned(*v, n) || n < 1 || n > 256) return "--threads must be between 1 and 256";
    transport.threads = static_cast<int>(n);
  }
  if (auto v = opt.Get("check-status")) {
    if (*v != "200" && *v != "201") return "--check-status must be 200 or 201";
    service_options.check_status = std::stoi(*v);
  }
  if (auto v = opt.Get("max-connections")) {
    if (!ParseUnsigned(*v, n) || n < 1) return "--max-connections must be a positive integer";
    transport.max_connections = n;
  }
  if (auto v = opt.Get("max-header-bytes")) {
    if (!ParseUnsigned(*v, n) || n < 256) return "--max-header-bytes must be an integer of at least 256";
    transport.max_header_bytes = n;
  }
  if (auto v = opt.Get("bulk-max-operations")) {
    if (!ParseUnsigned(*v, n) || n < 1) return "--bulk-max-operations must be a positive integer";
    service_options.bulk_max_operations = n;
  }
  struct Timeout {
    const char* name;
    std::chrono::milliseconds* field;
  };
  for (Timeout t : {Timeout{"header-timeout", &transport.header_timeout}, Timeout{"body-timeout", &transport.body_timeout},
                    Timeout{"idle-timeout", &transport.idle_timeout}, Timeout{"drain-timeout", &transport.drain_timeout},
                    Timeout{"watch-interval", &watch_interval}, Timeout{"progress-interval", &progress_interval}}) {
    if (auto v = opt.Get(t.name); v && !ParseSeconds(*v, *t.field))
      return Cat("--", t.name, " must be a positive number of seconds");
  }
  transport.max_body_bytes = max_body_bytes;
  service_options.max_body_bytes = transport.max_body_bytes;
  transport.tls_cert = opt.Get("tls-cert").value_or("");
  transport.tls_key = opt.Get("tls-key").value_or("");
  transport.server_name = Cat("preflight/", std::string(Version()));
  if (opt.Has("base-path")) {
    service_options.base_paths.clear();
    for (std::string p : opt.All("base-path")) {
      if (p.empty() || p.front() != '/') return Cat("--base-path must start with '/': '", p, "'");
      while (!p.empty() && p.back() == '/') p.pop_back();  // "/" becomes "", the root
      service_options.base_paths.push_back(p);
    }
  }
  return "";
}

}  // namespace

int ServeMain(int argc, char** argv) {
  Options opt = ParseOptions(
      argc, argv, {"help", "watch", "allow-partial", "gate"},
      {"snapshot", "listen", "base-path", "credentials", "tokens", "tls-cert", "tls-key", "threads", "check-status",
       "watch-interval", "access-log", "max-connections", "max-header-bytes", "header-timeout", "body-timeout",
       "idle-timeout", "drain-timeout", "bulk-max-operations", "limit", "upstream", "upstream-timeout",
       "upstream-ca-file", "progress-interval", "image-verify"},
      2);
  if (opt.Has("help")) {
    std::fputs(kServeUsage, stdout);
    return 0;
  }
  if (!opt.error.empty()) return Fail(Cat(opt.error, " (see 'preflight serve --help')"));
  std::vector<std::string> paths = opt.All("snapshot");
  if (paths.empty()) return Fail("serve needs --snapshot PATH (see 'preflight serve --help')");

  EngineOptions engine_options;
  for (const std::string& assignment : opt.All("limit")) {
    if (absl::Status s = SetLimit(engine_options.limits, assignment); !s.ok()) return Fail(std::string(s.message()));
  }
  engine_options.allow_partial = opt.Has("allow-partial");
  if (auto verify = opt.Get("image-verify")) engine_options.image_verify = *verify;

  TransportOptions transport;
  ServiceOptions service_options;
  std::chrono::milliseconds watch_interval{1000}, progress_interval{5000};
  if (std::string e = ReadServeOptions(opt, engine_options.limits.max_input_bytes, transport, service_options,
                                       watch_interval, progress_interval);
      !e.empty())
    return Fail(e);

  if (std::string e = ConfigureUpstream(opt.Get("upstream").value_or(""), opt.Has("gate"),
                                        opt.Get("upstream-timeout").value_or(""), opt.Get("upstream-ca-file").value_or(""),
                                        service_options);
      !e.empty())
    return Fail(e);
  auto auth = Authenticator::Load(opt.Get("credentials").value_or(""), opt.Get("tokens").value_or(""));
  if (!auth.ok()) return Fail(std::string(auth.status().message()));
  if (!IsLoopback(transport.host) && !(*auth)->enabled())
    return Fail(Cat("refusing to listen on ", transport.host,
                             " without authentication: give --credentials or --tokens, or listen on 127.0.0.1"));

  std::FILE* access_file = nullptr;
  std::unique_ptr<AccessLog> access_log;
  if (auto v = opt.Get("access-log")) {
    access_file = *v == "-" ? stderr : std::fopen(v->c_str(), "a");
    if (!access_file) return Fail(Cat("cannot open the access log ", *v));
    access_log = std::make_unique<AccessLog>(access_file);
  }

  EventLog events;
  // A SIGHUP before the server can reload (it installs its handler once listening) must not
  // end the process, whose default action it is.
  std::signal(SIGHUP, SIG_IGN);
  EngineOptions reload_options = engine_options;
  engine_options.progress = ProgressEvents(events, progress_interval, false);
  reload_options.progress = ProgressEvents(events, progress_interval, true);
  auto engine = Engine::Load(paths, engine_options);
  if (!engine.ok()) {
    std::string error = ScimErrorJson(engine.status());
    std::fprintf(stdout, "%s\n", error.c_str());
    return Fail(Cat("the snapshot did not load: ", std::string(engine.status().message()).substr(0, 2000)));
  }
  Metrics metrics;
  Service service(service_options, *std::move(auth), metrics, access_log.get());
  service.Publish(*std::move(engine));
  Reloader reloader(paths, reload_options, service, metrics, events, opt.Has("watch"), watch_interval);

  TransportHooks hooks;
  hooks.handle = [&service](const HttpRequest& request, HttpResponse& response) { service.Handle(request, response); };
  hooks.done = [&service](const HttpRequest& request, const HttpResponse& response, double seconds) {
    service.Done(request, response, seconds);
  };
  hooks.rejection_header = [&service] {
    return std::pair<std::string, std::string>("X-Preflight-Snapshot", service.Current()->header);
  };
  hooks.on_reload_signal = [&reloader] { reloader.Request(); };
  hooks.on_drain = [&events] { events.Event("draining"); };
  auto server = Transport::Bind(transport, std::move(hooks));
  if (!server.ok()) return Fail(std::string(server.status().message()));
  Transport* t = server->get();
  service.SetTransportState([t] { return t->active_connections(); }, [t] { return t->rejected_connections(); },
                            [t] { return t->draining(); });

  auto current = service.Current();
  std::string scheme = t->tls() ? "https" : "http";
  std::string host = transport.host.find(':') != std::string::npos ? Cat("[", transport.host, "]") : transport.host;
  std::string listening = Cat(
      "\"url\":\"", scheme, "://", host, ":", t->port(), service_options.base_paths[0], "\",\"port\":", t->port(),
      ",\"threads\":", transport.threads, ",\"generation\":", current->generation, ",\"hash\":\"",
      current->engine->info().source_hash, "\",\"identities\":", current->engine->info().identities);
  std::fprintf(stdout, "{\"event\":\"listening\",%s}\n", listening.c_str());
  std::fflush(stdout);
  events.Event("listening", listening);
  t->Run();
  if (reloader.busy()) {
    // A reload still loading (minutes at a million identities) must not hold up the exit
    // the drain has finished; it answers nothing, so it is abandoned.
    events.Event("stopped", "\"reload_abandoned\":true");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  reloader.Stop();
  events.Event("stopped");
  if (access_file && access_file != stderr) std::fclose(access_file);
  return 0;
}

int CredentialsMain(int argc, char** argv) {
  std::string sub = argc > 2 ? argv[2] : "";
  if (sub == "--help" || sub == "help") {
    std::fputs(kCredentialsUsage, stdout);
    return 0;
  }
  Options opt = ParseOptions(argc, argv, {"help"}, {"user", "name", "file"}, 3);
  if (opt.Has("help")) {
    std::fputs(kCredentialsUsage, stdout);
    return 0;
  }
  if (!opt.error.empty()) return Fail(Cat(opt.error, "\n", kCredentialsUsage));
  auto file = opt.Get("file");
  if (!file) return Fail(Cat("credentials needs --file FILE\n", kCredentialsUsage));
  if (sub == "add") {
    auto user = opt.Get("user");
    if (!user) return Fail("credentials add needs --user NAME (the password is read from standard input)");
    std::string password = ReadPassword();
    if (absl::Status s = AddUser(*file, *user, password); !s.ok()) return Fail(std::string(s.message()));
    std::printf("{\"user\":%s,\"file\":%s}\n", JsonString(*user).c_str(), JsonString(*file).c_str());
    return 0;
  }
  if (sub == "token") {
    auto name = opt.Get("name");
    if (!name) return Fail("credentials token needs --name NAME");
    auto token = AddToken(*file, *name);
    if (!token.ok()) return Fail(std::string(token.status().message()));
    std::printf("{\"name\":%s,\"file\":%s,\"token\":%s}\n", JsonString(*name).c_str(), JsonString(*file).c_str(),
                JsonString(*token).c_str());
    return 0;
  }
  return Fail(Cat("unknown credentials command '", sub, "'\n", kCredentialsUsage));
}

}  // namespace preflight::http
