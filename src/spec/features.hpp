// `berth-runtime features`: what this build implements, as the
// runtime-spec features.md document. Must stay true to what is implemented:
// when a module gains a feature it updates this file.
#pragma once

#include <string>

namespace berth::spec {

std::string featuresJson();

}  // namespace berth::spec
