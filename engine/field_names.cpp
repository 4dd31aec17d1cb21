#include "engine/field_names.h"

#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace licflow {
namespace {

class FieldTable {
 public:
  FieldTable() {
    // Order must match the constants in field_names.h.
    for (const char* n : {"ts", "type", "server", "feature", "user", "host", "group", "project",
                          "vendor", "version", "count", "handle", "capacity", "reason", "stream",
                          "late"}) {
      intern(n);
    }
  }

  FieldId intern(std::string_view name) {
    {
      std::shared_lock lock(mutex_);
      if (auto it = ids_.find(name); it != ids_.end()) return it->second;
    }
    std::unique_lock lock(mutex_);
    if (auto it = ids_.find(name); it != ids_.end()) return it->second;
    names_.emplace_back(name);  // deque: element addresses stay valid, so keys may view them
    auto id = static_cast<FieldId>(names_.size() - 1);
    ids_.emplace(names_.back(), id);
    return id;
  }

  std::string_view name(FieldId id) {
    std::shared_lock lock(mutex_);
    return names_[id];
  }

 private:
  std::shared_mutex mutex_;
  std::deque<std::string> names_;
  std::unordered_map<std::string_view, FieldId> ids_;
};

FieldTable& table() {
  static FieldTable t;
  return t;
}

}  // namespace

FieldId intern_field(std::string_view name) { return table().intern(name); }
std::string_view field_name(FieldId id) { return table().name(id); }

}  // namespace licflow
