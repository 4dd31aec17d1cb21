// The hash of byte strings that licflow keeps or acts on: the spill index, checkpoint chunk
// checksums, and (through KeyFields::hash) partition choice. XXH3 (libxxhash) rather than
// std::hash: its value is defined by the algorithm, not by the standard library's version, so a
// checkpoint written by one build restores in another and a key lands in the same partition;
// and, inlined, it hashes a short key in a few nanoseconds where libstdc++'s out-of-line murmur
// call took about twice that.
#pragma once

#include <cstdint>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace licflow {

inline uint64_t hash_bytes(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

}  // namespace licflow
