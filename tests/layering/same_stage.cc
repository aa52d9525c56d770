// Compiled against preflight_plan's usage requirements: plan/ may include its own and
// lower stages' headers (tests/CMakeLists.txt, layering tests).
#include "engine/plan/compiler.h"
#include "engine/state/match.h"
#include "engine/model/snapshot.h"
