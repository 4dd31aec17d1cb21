// tcp_load: the load generator of bench/run_all.sh, a process separate from licflow. Replays a
// JSON Lines file over CONNECTIONS TCP connections as fast as licflow takes it (each connection
// sends a contiguous slice of the file), optionally with a trickle of priority lines on one more
// connection, and reports lines/s.
// Usage: tcp_load HOST:PORT FILE CONNECTIONS [PRIORITY_LINE_FILE EVERY_MS]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

int connect_to(const std::string& host, int port) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "tcp_load: cannot connect to %s:%d\n", host.c_str(), port);
  std::exit(1);
}

bool send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, std::min<size_t>(size, 1 << 20), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::string read_all(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6) {
    std::fprintf(stderr, "usage: tcp_load HOST:PORT FILE CONNECTIONS [PRIORITY_FILE EVERY_MS]\n");
    return 2;
  }
  const std::string address = argv[1];
  const std::string host = address.substr(0, address.rfind(':'));
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  const std::string data = read_all(argv[2]);
  const int connections = std::max(1, std::atoi(argv[3]));
  const size_t lines = static_cast<size_t>(std::count(data.begin(), data.end(), '\n'));

  // Slices of whole lines, one per connection.
  std::vector<std::pair<size_t, size_t>> slices;
  for (int c = 0, begin = 0; c < connections; ++c) {
    size_t end = c + 1 == connections ? data.size() : data.size() * (c + 1) / connections;
    end = std::min(data.size(), data.find('\n', end) == std::string::npos ? data.size()
                                                                         : data.find('\n', end) + 1);
    slices.emplace_back(static_cast<size_t>(begin), end);
    begin = static_cast<int>(end);
  }
  std::atomic<bool> done{false};
  std::atomic<uint64_t> priority_sent{0};
  std::thread priority;
  if (argc == 6) {
    const std::string line = read_all(argv[4]);
    const int every_ms = std::max(1, std::atoi(argv[5]));
    priority = std::thread([&, line, every_ms] {
      const int fd = connect_to(host, port);
      while (!done.load()) {
        if (!send_all(fd, line.data(), line.size())) break;
        priority_sent.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(every_ms));
      }
      ::close(fd);
    });
  }
  const auto begin = std::chrono::steady_clock::now();
  std::vector<std::thread> senders;
  for (const auto& [from, to] : slices) {
    senders.emplace_back([&, from = from, to = to] {
      const int fd = connect_to(host, port);
      send_all(fd, data.data() + from, to - from);
      ::close(fd);
    });
  }
  for (std::thread& t : senders) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  done = true;
  if (priority.joinable()) priority.join();
  std::printf("tcp_load: %zu lines over %d connections in %.3f s: %.0f lines/s; %llu priority lines\n",
              lines, connections, seconds, static_cast<double>(lines) / seconds,
              static_cast<unsigned long long>(priority_sent.load()));
  return 0;
}
