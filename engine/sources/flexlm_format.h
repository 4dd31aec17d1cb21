// `format: flexlm`: the FlexNet Publisher (lmgrd) debug log (SPEC §1). See flexlm_format.cpp.
#pragma once

#include <memory>

#include "engine/sources/log_format.h"

namespace licflow {

std::unique_ptr<LogTranslator> make_flexlm_translator(const SourceFormat& format);

}  // namespace licflow
