// Compiled against preflight_plan's usage requirements: policy/ is a later stage, so
// this include must not compile (tests/CMakeLists.txt, layering tests).
#include "engine/policy/check.h"
