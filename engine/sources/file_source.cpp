// file and stdin sources (SPEC §3): read JSON Lines until end of file, then end.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "engine/line_chunker.h"
#include "engine/sources/format.h"
#include "engine/sources/source.h"

namespace licflow {
namespace {

class FileSource final : public Source {
 public:
  FileSource(std::string id, std::string path) : Source(std::move(id)), path_(std::move(path)) {}
  ~FileSource() override {
    if (thread_.joinable()) thread_.join();
  }

  Status start(uint32_t index, IngestQueue& queue) override {
    if (path_ == "-") {
      fd_ = STDIN_FILENO;
    } else {
      fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        return Status::error("source `" + id() + "`: cannot open " + path_ + ": " +
                             std::strerror(errno));
      }
    }
    thread_ = std::thread([this, index, &queue] { read_all(index, queue); });
    return Status::ok();
  }
  void request_stop() override { stop_.store(true, std::memory_order_relaxed); }
  void join() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void read_all(uint32_t index, IngestQueue& queue) {
    LineChunker chunker(index, [&](std::unique_ptr<RawChunk> c) { queue.push(std::move(c)); },
                        queue.chunk_bytes());
    std::string buffer(1 << 20, '\0');
    // read(), not fread(): a pipe delivers what it has at once instead of waiting for a full buffer.
    while (!stop_.load(std::memory_order_relaxed)) {
      ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // end of file, or a read error, which ends the source like EOF
      chunker.feed(std::string_view(buffer.data(), static_cast<size_t>(n)));
    }
    chunker.finish(/*partial_line_is_error=*/false);
    if (fd_ != STDIN_FILENO) ::close(fd_);
    queue.push_end(index);
  }

  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace

std::unique_ptr<Source> make_file_source(std::string id, std::string path) {
  return std::make_unique<FileSource>(std::move(id), std::move(path));
}

std::unique_ptr<Source> make_file_source_from_config(NodeConfig& config) {
  auto path = config.get_string("path", true);
  bool format_ok = check_source_format(config);
  if (!path || !format_ok) return nullptr;
  return make_file_source(config.id(), *path);
}

std::unique_ptr<Source> make_stdin_source_from_config(NodeConfig& config) {
  if (!check_source_format(config)) return nullptr;
  return make_file_source(config.id(), "-");
}

}  // namespace licflow
