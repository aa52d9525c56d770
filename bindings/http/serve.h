#pragma once
// `preflight serve` and `preflight credentials`: the entry points bindings/cli/main.cc
// dispatches to (argv as the process got it; argv[1] is the subcommand).

namespace preflight::http {

int ServeMain(int argc, char** argv);
int CredentialsMain(int argc, char** argv);

}  // namespace preflight::http
