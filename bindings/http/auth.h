#pragma once
// Who may call the service, as IdentityIQ's SCIM API decides it: HTTP Basic against a
// credentials file of salted password hashes (libsodium's crypto_pwhash, Argon2id), and
// Bearer tokens from a token file that holds only their hashes.
//
// Files: one `NAME:HASH` a line; `#` starts a comment. Credentials hold the
// crypto_pwhash_str string ("$argon2id$v=19$m=...") of the password; tokens hold the hex
// BLAKE2b-256 of the token (a token is 32 random bytes, so a fast hash is as good as a
// slow one and keeps each request cheap).

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"

namespace preflight::http {

class Authenticator {
 public:
  // Either path may be empty. A file that cannot be read or holds a malformed line is an error.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Load(const std::string& credentials_path,
                                                             const std::string& tokens_path);
  // True when any credential is configured (otherwise every request is allowed).
  bool enabled() const { return !users_.empty() || !tokens_.empty(); }
  // The principal ("alice", "token:ci") for a valid Authorization header, or "".
  std::string Authenticate(std::string_view authorization) const;

  size_t users() const { return users_.size(); }
  size_t tokens() const { return tokens_.size(); }

 private:
  struct Entry {
    std::string name;
    std::string hash;
  };
  std::string CheckBasic(std::string_view encoded) const;
  std::string CheckBearer(std::string_view token) const;

  std::vector<Entry> users_;
  std::vector<Entry> tokens_;  // hash: 32 raw bytes
  // Argon2id costs tens of milliseconds by design; a password once verified is
  // remembered as a keyed hash (the key is random per process), so a keep-alive client
  // sending Basic on every request pays it once. Failures are never remembered.
  std::string cache_key_;
  std::string dummy_hash_;  // verified against for unknown users
  mutable std::mutex mu_;
  mutable absl::flat_hash_set<std::string> verified_;
};

// libsodium's initialisation; false if it failed.
bool InitSodium();

// `preflight credentials add --user NAME --file FILE` (password on stdin) and
// `preflight credentials token --name NAME --file FILE` (prints a new token once).
absl::Status AddUser(const std::string& path, const std::string& user, const std::string& password);
absl::StatusOr<std::string> AddToken(const std::string& path, const std::string& name);

}  // namespace preflight::http
