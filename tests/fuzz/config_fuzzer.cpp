// libFuzzer target: config.json bytes through the parser and, when they
// parse, the validator. Either may reject anything; neither may crash, hang,
// leak or throw (parse errors must come back as Result errors).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/parse.hpp"
#include "spec/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = berth::spec::parseConfig(text);
  if (spec) (void)berth::spec::validate(*spec);
  return 0;
}
