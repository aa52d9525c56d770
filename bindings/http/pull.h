#pragma once
// `preflight snapshot pull`: a snapshot directory from a live IdentityIQ's SCIM API
// (bindings/http/pull.cc). bindings/cli/main.cc dispatches to it.

namespace preflight::http {

int PullMain(int argc, char** argv);  // argv[1] == "snapshot", argv[2] == "pull"

}  // namespace preflight::http
