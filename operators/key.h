// Grouping keys of keyed operators (SPEC §5): the values of the `key:` fields of a record, encoded
// into one byte string so it can be hashed and compared. An empty key list is one global key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/node_config.h"
#include "engine/record.h"

namespace licflow {

class KeyFields {
 public:
  KeyFields() = default;
  explicit KeyFields(const std::vector<std::string>& names);

  const std::vector<FieldId>& ids() const { return ids_; }
  // Writes the record's key into `out`; false when a key field is missing (the record is skipped).
  // A present null is a key value of its own; numbers equal by value (1 and 1.0) are one key.
  bool encode(const Record& record, std::string& out) const;
  // A hash of the record's key (equal keys, equal hashes) without encoding it; nullopt when a
  // key field is missing. Fixed by the algorithm (XXH3): it picks partitions, which checkpoints
  // remember.
  std::optional<uint64_t> hash(const Record& record) const;
  // The same hash, of a key encode() wrote: hash_encoded(encode(r)) == hash(r).
  static uint64_t hash_encoded(std::string_view encoded);
  // Whether the record's key is the one encode() wrote as `encoded`, without encoding it.
  bool matches(const Record& record, std::string_view encoded) const;

 private:
  std::vector<FieldId> ids_;
};

// Reads an operator's optional `key:` list, reporting a field listed twice, or one named like a
// field of the operator's output (`reserved`): "`NAME` cannot be a key field of CLASH".
std::optional<std::vector<std::string>> read_key_fields(NodeConfig& config,
                                                        const std::vector<std::string>& reserved,
                                                        const std::string& clash);

}  // namespace licflow
