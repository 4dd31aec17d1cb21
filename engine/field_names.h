// Interned field names. A record stores FieldId (uint32) instead of the name, so lookups compare
// integers. The table only grows; it holds field *names*, which are few, never field values.
// Thread-safe: intern() and name() may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace licflow {

using FieldId = uint32_t;

// The fields SPEC §1 knows, pre-interned at fixed ids so hot code can use constants.
namespace field {
inline constexpr FieldId kTs = 0;
inline constexpr FieldId kType = 1;
inline constexpr FieldId kServer = 2;
inline constexpr FieldId kFeature = 3;
inline constexpr FieldId kUser = 4;
inline constexpr FieldId kHost = 5;
inline constexpr FieldId kGroup = 6;
inline constexpr FieldId kProject = 7;
inline constexpr FieldId kVendor = 8;
inline constexpr FieldId kVersion = 9;
inline constexpr FieldId kCount = 10;
inline constexpr FieldId kHandle = 11;
inline constexpr FieldId kCapacity = 12;
inline constexpr FieldId kReason = 13;
inline constexpr FieldId kStream = 14;
inline constexpr FieldId kLate = 15;
}  // namespace field

FieldId intern_field(std::string_view name);
std::string_view field_name(FieldId id);

}  // namespace licflow
