// `format: rlm`: the Reprise License Manager report log (SPEC §1). See rlm_format.cpp.
#pragma once

#include <memory>

#include "engine/sources/log_format.h"

namespace licflow {

std::unique_ptr<LogTranslator> make_rlm_translator(const SourceFormat& format);

}  // namespace licflow
