#include "engine/rocksdb_cache.h"

#include <rocksdb/cache.h>

namespace licflow {

std::shared_ptr<rocksdb::Cache> shared_block_cache() {
  static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(8 << 20);
  return cache;
}

}  // namespace licflow
