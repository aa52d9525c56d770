// `_preflight`: the thin pybind11 layer over engine/preflight.h (the facade). The public API
// is the pure-Python package `preflight` (preflight/__init__.py); this module registers the
// wrapped classes (engine.cc), the functions (functions.cc) and the version. Errors become
// Python exceptions in one place (errors.cc).

#include <pybind11/pybind11.h>

#include <string>

#include "bindings/python/register.h"
#include "engine/preflight.h"

PYBIND11_MODULE(_preflight, m) {
  m.doc() = "Preflight's native layer; use the `preflight` package.";
  m.attr("__version__") = std::string(preflight::Version());
  preflight::python::RegisterEngine(m);
  preflight::python::RegisterFunctions(m);
  preflight::python::RegisterScan(m);
}
