// file and stdin sources (SPEC §3): read JSON Lines, or a license-server log (`format:`,
// SPEC §1), until end of file, then end.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "engine/line_chunker.h"
#include "engine/sources/express_stream.h"
#include "engine/sources/format.h"
#include "engine/sources/source.h"

namespace licflow {
namespace {

class FileSource final : public Source {
 public:
  FileSource(std::string id, std::string path, SourceFormat format)
      : Source(std::move(id)), path_(std::move(path)), format_(std::move(format)) {}
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
      // A directory opens, and its first read() fails: it would run as an empty input.
      struct stat st{};
      if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd_);
        fd_ = -1;
        return Status::error("source `" + id() + "`: cannot read " + path_ + ": " +
                             std::strerror(EISDIR));
      }
    }
    // A log format is re-read from the start on resume: its dates come from earlier lines.
    const bool seek = resume_offset_ > 0 && format_.name == "jsonl";
    if (seek && ::lseek(fd_, static_cast<off_t>(resume_offset_), SEEK_SET) < 0) {
      return Status::error("source `" + id() + "`: cannot seek " + path_ + " to its checkpointed " +
                           "offset: " + std::strerror(errno));
    }
    thread_ = std::thread([this, index, &queue] { read_all(index, queue); });
    return Status::ok();
  }
  bool can_resume() const override { return path_ != "-"; }
  std::string input_identity() const override {
    struct stat st{};
    if (::stat(path_.c_str(), &st) != 0) return path_ + '\t';
    return path_ + '\t' + std::to_string(st.st_size) + ':' + std::to_string(st.st_mtim.tv_sec) +
           '.' + std::to_string(st.st_mtim.tv_nsec);
  }
  SourceFormat format() const override { return format_; }
  void resume_at(uint64_t offset, uint64_t line) override {
    resume_offset_ = offset;
    resume_line_ = line;
  }
  void request_stop() override { stop_.store(true, std::memory_order_relaxed); }
  void join() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void read_all(uint32_t index, IngestQueue& queue) {
    std::unique_ptr<ChunkTranslator> translator = make_chunk_translator(format_);
    // A pipe or terminal is live (`tail -F server.log | licflow run …`): what it delivers is
    // handed over as soon as it goes quiet, not when 256 KiB have gathered. On stdin, which is
    // never resumed, such a trickle is also express (raw_chunk.h); a named pipe is a path that
    // checkpoints record offsets of, and express chunks carry none.
    struct stat st{};
    const bool live = ::fstat(fd_, &st) == 0 && !S_ISREG(st.st_mode);
    std::optional<ExpressStream> express;
    if (live && !can_resume()) express.emplace();
    LineChunker chunker(index,
                        [&](std::unique_ptr<RawChunk> c) {
                          if (translator) translator->translate(*c);
                          if (express) express->stamp(*c);
                          queue.push(std::move(c));
                        },
                        queue.chunk_bytes());
    if (translator) {
      translator->replay_until(resume_line_);
    } else {
      chunker.resume_at(resume_offset_, resume_line_);
    }
    std::string buffer(1 << 20, '\0');
    bool at_end = false;
    // read(), not fread(): a pipe delivers what it has at once instead of waiting for a full buffer.
    while (!stop_.load(std::memory_order_relaxed)) {
      // A pipe or terminal may stay silent: wait in slices so a stop request is noticed.
      pollfd ready{fd_, POLLIN, 0};
      if (::poll(&ready, 1, 100) == 0) continue;
      ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // end of file, or a read error, which ends the source like EOF
        if (n < 0) {
          spdlog::error("source `{}`: reading {} failed after {} lines: {}", id(), path_,
                        chunker.lines_read(), std::strerror(errno));
        }
        at_end = true;
        break;
      }
      chunker.feed(std::string_view(buffer.data(), static_cast<size_t>(n)));
      pollfd more{fd_, POLLIN, 0};
      if (!live || ::poll(&more, 1, 0) != 0) continue;
      if (express) {
        express->flush_quiet(chunker);
      } else {
        chunker.flush_pending();
      }
    }
    // Stopped (SIGINT/SIGTERM) in the middle of the input: the line being read is not cut off
    // into a line of its own; a run resumed from the checkpoint reads it whole.
    if (at_end) {
      chunker.finish(/*partial_line_is_error=*/false);
    } else {
      chunker.stop();
    }
    if (translator) translator->log_summary(id());
    if (fd_ != STDIN_FILENO) ::close(fd_);
    queue.push_end(index);
  }

  std::string path_;
  SourceFormat format_;
  int fd_ = -1;
  uint64_t resume_offset_ = 0;
  uint64_t resume_line_ = 1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace

std::unique_ptr<Source> make_file_source(std::string id, std::string path, SourceFormat format) {
  return std::make_unique<FileSource>(std::move(id), std::move(path), std::move(format));
}

std::unique_ptr<Source> make_file_source_from_config(NodeConfig& config) {
  auto path = config.get_path("path", true);
  auto format = read_source_format(config);
  if (!path || !format) return nullptr;
  return std::make_unique<FileSource>(config.id(), *path, std::move(*format));
}

std::unique_ptr<Source> make_stdin_source_from_config(NodeConfig& config) {
  auto format = read_source_format(config);
  if (!format) return nullptr;
  return std::make_unique<FileSource>(config.id(), "-", std::move(*format));
}

}  // namespace licflow
