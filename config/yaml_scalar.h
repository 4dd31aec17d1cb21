// Where the bytes of a YAML scalar's value are in the file, so that an error inside a value (an
// expression's bad token) points at its line and column, through everything YAML does between
// the two: quotes and escapes, folding of multi-line plain and quoted scalars, block scalars
// (`|`, `>`) with their indentation (indicated or not) and folding.
#pragma once

#include <cstddef>
#include <string>

namespace licflow {

// The position in `text` of byte `offset` of the value (`value_size` bytes) of the scalar whose
// first character (a quote, a block indicator or the value's) is at `start`; an offset at or
// past the value's end is the position just after its last byte.
size_t scalar_value_position(const std::string& text, size_t start, size_t value_size,
                             size_t offset);

}  // namespace licflow
