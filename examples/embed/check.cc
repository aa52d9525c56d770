// Load the demo snapshot and answer examples/request.json through the C++ library.
#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/preflight.h"

int main() {
  auto engine = preflight::Engine::Load({"examples/demo-snapshot"});
  if (!engine.ok()) {
    std::cerr << preflight::ScimErrorJson(engine.status()) << "\n";
    return 1;
  }
  std::stringstream body;
  body << std::ifstream("examples/request.json").rdbuf();
  absl::StatusOr<std::string> response = (*engine)->CheckJson(body.str());
  if (!response.ok()) {
    std::cout << preflight::ScimErrorJson(response.status()) << "\n";  // 400 with a scimType
    return 1;
  }
  std::cout << *response << "\n";

  // Swapping in a new snapshot while other threads check: readers are never blocked.
  preflight::SharedEngine shared(*engine);
  std::shared_ptr<const preflight::Engine> current = shared.Get();  // per request
  if (auto reloaded = preflight::Engine::Load({"examples/demo-snapshot"}); reloaded.ok()) shared.Swap(*reloaded);
  return 0;
}
