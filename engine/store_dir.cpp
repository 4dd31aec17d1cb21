#include "engine/store_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace licflow {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCreating = ".creating-";

// Removes `path`.creating-PID directories whose process is gone: creations a kill interrupted.
void remove_abandoned(const fs::path& path) {
  std::error_code ec;
  const std::string prefix = path.filename().string() + std::string(kCreating);
  for (const auto& entry : fs::directory_iterator(path.parent_path().empty() ? "." : path.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      fs::remove_all(entry.path(), ec);
    }
  }
}

}  // namespace

Status create_store_dir(const std::string& path,
                        const std::function<Status(const std::string& dir)>& create) {
  std::error_code ec;
  const fs::path target(path);
  remove_abandoned(target);
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec) || !fs::is_empty(target, ec)) return Status::ok();
    fs::remove(target, ec);
  }
  // Per process, so that two runs starting on one new state dir never build in one directory;
  // the first rename wins, and the other run finds a whole store (then the LOCK stops it).
  const std::string creating = path + std::string(kCreating) + std::to_string(::getpid());
  fs::remove_all(creating, ec);
  if (fs::create_directories(creating, ec); ec) {
    return Status::error("cannot create " + creating + ": " + ec.message());
  }
  if (Status st = create(creating); !st.is_ok()) {
    fs::remove_all(creating, ec);
    return st;
  }
  fs::rename(creating, target, ec);
  if (ec) {
    fs::remove_all(creating, ec);
    if (fs::exists(target / "CURRENT")) return Status::ok();  // another run created it first
    return Status::error("cannot rename " + creating + " to " + path + ": " + ec.message());
  }
  // The rename is durable once the directory holding both names is synced.
  const std::string parent =
      target.parent_path().empty() ? std::string(".") : target.parent_path().string();
  const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return Status::error("cannot sync directory " + parent + " after creating " + path + ": " +
                         why);
  }
  ::close(fd);
  return Status::ok();
}

}  // namespace licflow
