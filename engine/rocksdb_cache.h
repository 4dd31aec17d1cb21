// The block cache every RocksDB database of the process shares (history, spilled state), so the
// node's RocksDB read memory has one bound whatever the number of stores: 8 MiB. Reads of
// spilled state mostly hit the memtables or the OS page cache; history queries scan once.
#pragma once

#include <memory>

namespace rocksdb {
class Cache;
}

namespace licflow {

std::shared_ptr<rocksdb::Cache> shared_block_cache();

}  // namespace licflow
