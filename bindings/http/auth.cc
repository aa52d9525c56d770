#include "bindings/http/auth.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "bindings/http/cat.h"

namespace preflight::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name)
    if (c == ':' || c == '\n' || c == '\r' || c == '#' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadEntries(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(Cat("cannot read ", path));
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view l = Trim(line);
    if (l.empty() || l.front() == '#') continue;
    size_t colon = l.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == l.size())
      return absl::InvalidArgumentError(Cat(path, ":", number, ": expected NAME:HASH"));
    out.emplace_back(std::string(l.substr(0, colon)), std::string(l.substr(colon + 1)));
  }
  return out;
}

// Replaces NAME's line (or appends one) and writes the file with mode 0600 by renaming
// a temporary file over it, so a reader never sees half a file.
absl::Status WriteEntry(const std::string& path, const std::string& name, const std::string& hash) {
  std::vector<std::pair<std::string, std::string>> entries;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    auto read = ReadEntries(path);
    if (!read.ok()) return read.status();
    entries = *std::move(read);
  }
  bool replaced = false;
  for (auto& [n, h] : entries) {
    if (n == name) {
      h = hash;
      replaced = true;
    }
  }
  if (!replaced) entries.emplace_back(name, hash);
  std::string tmp = path + ".tmp";
  mode_t old = ::umask(077);
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) {
      ::umask(old);
      return absl::PermissionDeniedError(Cat("cannot write ", tmp));
    }
    out << "# preflight credentials: NAME:HASH (written by `preflight credentials`)\n";
    for (auto& [n, h] : entries) out << n << ':' << h << '\n';
  }
  ::umask(old);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return absl::PermissionDeniedError(Cat("cannot write ", path));
  return absl::OkStatus();
}

std::string Blake2b(std::string_view data, const std::string& key = "") {
  std::string out(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                     key.empty() ? nullptr : reinterpret_cast<const unsigned char*>(key.data()), key.size());
  return out;
}

std::string Hex(std::string_view raw) {
  std::string out(raw.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  out.pop_back();
  return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

}  // namespace

bool InitSodium() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Load(const std::string& credentials_path,
                                                                   const std::string& tokens_path) {
  if (!InitSodium()) return absl::InternalError("libsodium failed to initialise");
  auto auth = std::unique_ptr<Authenticator>(new Authenticator());
  if (!credentials_path.empty()) {
    auto entries = ReadEntries(credentials_path);
    if (!entries.ok()) return entries.status();
    for (auto& [name, hash] : *entries) {
      if (hash.rfind("$argon2", 0) != 0)
        return absl::InvalidArgumentError(
            Cat(credentials_path, ": the entry of '", name, "' is not a crypto_pwhash string"));
      auth->users_.push_back({name, hash});
    }
  }
  if (!tokens_path.empty()) {
    auto entries = ReadEntries(tokens_path);
    if (!entries.ok()) return entries.status();
    for (auto& [name, hex] : *entries) {
      std::string raw(crypto_generichash_BYTES, '\0');
      size_t len = 0;
      if (sodium_hex2bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), hex.data(), hex.size(), nullptr,
                         &len, nullptr) != 0 ||
          len != raw.size())
        return absl::InvalidArgumentError(Cat(tokens_path, ": the entry of '", name, "' is not a token hash"));
      auth->tokens_.push_back({name, raw});
    }
  }
  if (!auth->users_.empty()) {
    char dummy[crypto_pwhash_STRBYTES];
    unsigned char random[16];
    randombytes_buf(random, sizeof random);
    if (crypto_pwhash_str(dummy, reinterpret_cast<const char*>(random), sizeof random,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
      return absl::ResourceExhaustedError("crypto_pwhash ran out of memory");
    auth->dummy_hash_ = dummy;
  }
  auth->cache_key_.resize(crypto_generichash_KEYBYTES);
  randombytes_buf(auth->cache_key_.data(), auth->cache_key_.size());
  return auth;
}

std::string Authenticator::Authenticate(std::string_view authorization) const {
  authorization = Trim(authorization);
  if (StartsWithNoCase(authorization, "Basic ") && !users_.empty())
    return CheckBasic(Trim(authorization.substr(6)));
  if (StartsWithNoCase(authorization, "Bearer ") && !tokens_.empty())
    return CheckBearer(Trim(authorization.substr(7)));
  return "";
}

std::string Authenticator::CheckBasic(std::string_view encoded) const {
  if (encoded.empty() || encoded.size() > 4096) return "";
  std::string decoded(encoded.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), encoded.data(),
                        encoded.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return "";
  decoded.resize(len);
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return "";
  std::string_view user = std::string_view(decoded).substr(0, colon);
  std::string_view password = std::string_view(decoded).substr(colon + 1);
  const Entry* entry = nullptr;
  for (const Entry& e : users_)
    if (e.name == user) entry = &e;
  if (entry == nullptr) {
    // As slow as a wrong password, so that timing does not tell which users exist.
    crypto_pwhash_str_verify(dummy_hash_.c_str(), password.data(), password.size());
    return "";
  }
  std::string remembered = Blake2b(Cat(entry->hash, "\n", decoded), cache_key_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (verified_.contains(remembered)) return entry->name;
  }
  if (crypto_pwhash_str_verify(entry->hash.c_str(), password.data(), password.size()) != 0) return "";
  std::lock_guard<std::mutex> lock(mu_);
  if (verified_.size() > 10000) verified_.clear();
  verified_.insert(std::move(remembered));
  return entry->name;
}

std::string Authenticator::CheckBearer(std::string_view token) const {
  if (token.empty() || token.size() > 4096) return "";
  std::string digest = Blake2b(token);
  std::string found;
  for (const Entry& e : tokens_) {
    // Constant time per entry; every entry is compared.
    if (sodium_memcmp(digest.data(), e.hash.data(), digest.size()) == 0) found = Cat("token:", e.name);
  }
  return found;
}

absl::Status AddUser(const std::string& path, const std::string& user, const std::string& password) {
  if (!InitSodium()) return absl::InternalError("libsodium failed to initialise");
  if (!ValidName(user)) return absl::InvalidArgumentError("a user name must be non-empty and hold no ':' or '#'");
  if (password.empty()) return absl::InvalidArgumentError("the password (read from standard input) is empty");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return absl::ResourceExhaustedError("crypto_pwhash ran out of memory");
  return WriteEntry(path, user, hash);
}

absl::StatusOr<std::string> AddToken(const std::string& path, const std::string& name) {
  if (!InitSodium()) return absl::InternalError("libsodium failed to initialise");
  if (!ValidName(name)) return absl::InvalidArgumentError("a token name must be non-empty and hold no ':' or '#'");
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char encoded[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(encoded, sizeof encoded, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string token = Cat("pft_", encoded);
  if (absl::Status s = WriteEntry(path, name, Hex(Blake2b(token))); !s.ok()) return s;
  return token;
}

}  // namespace preflight::http
