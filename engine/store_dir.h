// Creating a RocksDB store directory (checkpoints, history) so that a kill at any moment leaves
// either no store or a whole one (SPEC §7 "killing the process at any moment"): RocksDB writes
// a new database's files one by one, and a directory left with some of them is
// indistinguishable from someone else's, which licflow refuses to touch.
#pragma once

#include <functional>
#include <string>

#include "engine/status.h"

namespace licflow {

// When `path` does not exist (or is an empty directory), runs `create` on `path`.creating-PID —
// which opens a new database there, writes its format marker and closes it — then renames it
// to `path`. Such directories of processes that are gone (a kill during an earlier creation)
// are ours and are removed.
Status create_store_dir(const std::string& path,
                        const std::function<Status(const std::string& dir)>& create);

}  // namespace licflow
