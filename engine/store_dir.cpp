#include "engine/store_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace licflow {

Status create_store_dir(const std::string& path,
                        const std::function<Status(const std::string& dir)>& create) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (!fs::is_directory(path, ec) || !fs::is_empty(path, ec)) return Status::ok();
    fs::remove(path, ec);
  }
  const std::string creating = path + ".creating";
  fs::remove_all(creating, ec);
  if (fs::create_directories(creating, ec); ec) {
    return Status::error("cannot create " + creating + ": " + ec.message());
  }
  if (Status st = create(creating); !st.is_ok()) return st;
  fs::rename(creating, path, ec);
  if (ec) return Status::error("cannot rename " + creating + " to " + path + ": " + ec.message());
  // The rename is durable once the directory holding both names is synced.
  const std::string parent = fs::path(path).parent_path().empty()
                                 ? std::string(".")
                                 : fs::path(path).parent_path().string();
  const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  return Status::ok();
}

}  // namespace licflow
