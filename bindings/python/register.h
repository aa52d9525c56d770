#pragma once
// One registration function per file of the native module; module.cc calls them.

#include <pybind11/pybind11.h>

#include <memory>

#include "engine/preflight.h"

namespace preflight::python {

void RegisterEngine(pybind11::module_& m);
void RegisterFunctions(pybind11::module_& m);
void RegisterScan(pybind11::module_& m);  // scan.cc: scan / impact row streams

// The engine a `_preflight.Engine` object holds (engine.cc).
std::shared_ptr<const Engine> EngineOf(pybind11::handle engine);

}  // namespace preflight::python
