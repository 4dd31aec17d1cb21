// tcp source (SPEC §3): accepts any number of connections on `listen: HOST:PORT`, each a stream
// of newline-framed JSON Lines with its own line numbers. A connection closed in the middle of a
// line yields a dead letter for the partial line. Runs until stop is requested (SIGINT/SIGTERM).
// No rewind: what a client sent before a crash and the graph had not processed is lost (issue 5).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <optional>
#include <thread>

#include "engine/line_chunker.h"
#include "engine/sources/express_stream.h"
#include "engine/sources/format.h"
#include "engine/sources/source.h"

namespace licflow {
namespace {

constexpr int kPollMs = 100;  // how quickly I/O threads notice a stop request
constexpr auto kDrainTime = std::chrono::seconds(1);

class TcpSource final : public Source {
 public:
  TcpSource(std::string id, std::string host, uint16_t port, SourceFormat format)
      : Source(std::move(id)), host_(std::move(host)), port_(port), format_(std::move(format)) {}
  ~TcpSource() override {
    request_stop();
    join();
  }

  Status start(uint32_t index, IngestQueue& queue) override {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return error("socket");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    if (::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) {
      return Status::error("source `" + id() + "`: `" + host_ + "` is not an IPv4 address");
    }
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return error("bind " + host_ + ":" + std::to_string(port_));
    }
    if (::listen(listen_fd_, 128) != 0) return error("listen");
    spdlog::info("source `{}`: listening on {}:{}", id(), host_, port_);
    accept_thread_ = std::thread([this, index, &queue] { accept_loop(index, queue); });
    return Status::ok();
  }

  SourceFormat format() const override { return format_; }
  void request_stop() override { stop_.store(true, std::memory_order_relaxed); }

  void join() override {
    if (accept_thread_.joinable()) accept_thread_.join();
  }

 private:
  Status error(const std::string& what) {
    std::string message = "source `" + id() + "`: " + what + ": " + std::strerror(errno);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
    return Status::error(message);
  }

  void accept_loop(uint32_t index, IngestQueue& queue) {
    std::list<std::thread> connections;
    while (!stop_.load(std::memory_order_relaxed)) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, kPollMs) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      connections.emplace_back([this, fd, index, &queue] { read_connection(fd, index, queue); });
    }
    ::close(listen_fd_);
    listen_fd_ = -1;
    for (std::thread& t : connections) t.join();
    queue.push_end(index);
  }

  // One thread per connection: blocking reads with a poll timeout to notice a stop request.
  // A log format is translated per connection: each is its own log stream.
  void read_connection(int fd, uint32_t index, IngestQueue& queue) {
    std::unique_ptr<ChunkTranslator> translator = make_chunk_translator(format_);
    ExpressStream express;  // a trickle of alerts overtakes bulk load (raw_chunk.h)
    LineChunker chunker(index,
                        [&](std::unique_ptr<RawChunk> c) {
                          if (translator) translator->translate(*c);
                          express.stamp(*c);
                          queue.push(std::move(c));
                        },
                        queue.chunk_bytes());
    std::string buffer(256 * 1024, '\0');
    // On a stop request, what the peer already sent is still read, for at most kDrainTime, so a
    // clean stop does not cut lines that had arrived.
    std::optional<std::chrono::steady_clock::time_point> drain_until;
    bool peer_closed = false;
    while (true) {
      if (!drain_until && stop_.load(std::memory_order_relaxed)) {
        drain_until = std::chrono::steady_clock::now() + kDrainTime;
      }
      if (drain_until && std::chrono::steady_clock::now() > *drain_until) break;
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, drain_until ? 0 : kPollMs);
      if (ready == 0 && drain_until) break;
      if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
      ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        peer_closed = true;
        break;
      }
      if (n < 0) break;
      chunker.feed(std::string_view(buffer.data(), static_cast<size_t>(n)));
      // Nothing more waiting: hand over what we have now rather than wait for a full chunk, so a
      // trickle of events is not delayed; under load reads are large and chunks stay large.
      pollfd more{fd, POLLIN, 0};
      if (::poll(&more, 1, 0) == 0) express.flush_quiet(chunker);
    }
    // A peer that closes cleanly ends its last line as the end of a file does (SPEC §1 lines,
    // whatever the source); a reset connection or a stop that cuts the peer off mid-line leaves
    // a line that was surely cut.
    chunker.finish(/*partial_line_is_error=*/!peer_closed);
    if (translator) translator->log_summary(id());
    ::close(fd);
  }

  std::string host_;
  uint16_t port_;
  SourceFormat format_;
  int listen_fd_ = -1;
  std::thread accept_thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace

std::unique_ptr<Source> make_tcp_source_from_config(NodeConfig& config) {
  auto format = read_source_format(config);
  auto listen = config.get_string("listen", true);
  if (!listen || !format) return nullptr;
  size_t colon = listen->rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try {
      size_t used = 0;
      port = std::stoi(listen->substr(colon + 1), &used);
      if (used != listen->size() - colon - 1) port = -1;
    } catch (const std::exception&) {
    }
  }
  if (port < 0 || port > 65535) {
    config.error("listen", "`" + config.id() + "`: `listen` must be HOST:PORT, got `" + *listen +
                               "`");
    return nullptr;
  }
  return std::make_unique<TcpSource>(config.id(), listen->substr(0, colon),
                                     static_cast<uint16_t>(port), std::move(*format));
}

}  // namespace licflow
