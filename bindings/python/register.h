#pragma once
// One registration function per file of the native module; module.cc calls them.

#include <pybind11/pybind11.h>

namespace preflight::python {

void RegisterEngine(pybind11::module_& m);
void RegisterFunctions(pybind11::module_& m);

}  // namespace preflight::python
