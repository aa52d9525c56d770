// The C++ library from an installed tree: load a snapshot, answer one request.
#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/preflight.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  auto engine = preflight::Engine::Load({argv[1]});
  if (!engine.ok()) {
    std::cerr << engine.status() << "\n";
    return 1;
  }
  std::ifstream in(argv[2]);
  std::stringstream body;
  body << in.rdbuf();
  auto response = (*engine)->CheckJson(body.str());
  if (!response.ok()) {
    std::cout << preflight::ScimErrorJson(response.status()) << "\n";
    return 1;
  }
  std::cout << *response << "\n";
  return 0;
}
