// The model behind `licflow generate`: a discrete-event simulation of one site whose local time
// is UTC. Pending actions (arrivals, checkins due, queue give-ups, metric ticks, outages) wait in
// a bucket queue (a binary heap per minute), so the cost is per event, never per millisecond.
//
// Inventory. `servers` license servers `lic-1`…; `features` features named after real products
// (matlab_core, simulink, ansys_fluent, …; past the list of 32 the names repeat with a suffix,
// `matlab_core_2`, at a lower popularity), assigned round-robin to servers, each with a vendor, a
// version, a popularity weight, the departments that use it, and a kind: interactive (session
// median 25 min), solver (median 70 min, 35% of sessions on an `hpc-NN` node) or token (like
// solver, but a checkout takes 4–64 tokens). Session lengths are log-normal (sigma 0.8) clamped
// to [10 min, 12 h]. Users `u0001`… sit at `ws-0001`…, belong to a department (mech-eng 28%,
// design 24%, electronics 22%, cfd 14%, research 12%) and one or two of its projects, and
// prefer 3–6 features drawn by popularity, mostly among their department's tools.
//
// Capacity. Each feature's capacity is its expected weekday-peak concurrent demand times
// U(0.9, 1.6), at least 2 (64 tokens): a few features run out at peak, and about 10% of
// requests are denied.
//
// Demand. Each user requests licenses as a Poisson process with a peak rate of 6/h times a
// per-user log-normal factor (sigma 0.35), scaled by:
//   time of day  ~3% of peak at night, ramp 7–9h, peak 9–12h and 13–17h, lunch dip (~70%),
//                evening tail to 22h (minute-resolution interpolation of an hourly profile);
//   weekday      Mon 1.0, Tue/Wed 1.05, Thu 1.0, Fri 0.85; each calendar day also ×U(0.85, 1.15);
//   presence     a user works a weekday with p 0.93, a weekend day with p 0.12 (then at 70%).
// The users' processes are summed into one (thinned per hour; the user drawn by an alias table
// rebuilt daily). A request picks one of the user's features by preference weight and is
// dropped when the user already holds or waits for it (one seat per user and feature).
//
// Checkout. It succeeds when the feature's queue is empty and the count fits, emitting
// `checkout` (capacity, version, handle `hN`; 1% carry no handle, 5% of non-token ones no count).
// Otherwise `denied` (with capacity), then with p 0.35 `queued` (FIFO, at most 20 waiting; the
// user gives up after U(5, 90) min: `dequeued` with reason `timeout`) or else, with p 0.5, a
// retry after U(2, 20) min (at most 3). Freed licenses go to the queue head first: `dequeued`
// (with `queue_time_s`), then `checkout`. `checkin` repeats the checkout's handle, count, host
// and project; 6% say `reason: inactive`.
//
// Servers. Every 60 s ± 1.5 s a `metric` with `response_time_ms` (base U(60, 140) × (1 + 0.5 ×
// load) × log-normal noise; 0.2% lone spikes of ×4–10) and `open_sessions`. Unplanned outages
// come every Exp(4 days) per server: response times climb (up to ~40×) over a U(5, 25) min
// lead-up, then `server_down` (reason `crash`) for U(2, 20) min. Each Sunday from 02:00 a server
// has p 0.5 of a `maintenance` outage of U(10, 40) min. Before `server_down` its queues are
// emptied with `dequeued` (reason `shutdown`); its open sessions end silently, as SPEC §5 has
// `server_down` close them, and 80% of those users (60% of the queued) check out again
// U(1, 20) min after `server_up`. A down server writes nothing, metrics included.
//
// Output. 1% of events write `ts` as an RFC 3339 string (all spellings SPEC §1 allows, exact to
// the ms). Lines leave in ts order unless out_of_order_ms = D > 0: then each event is held back
// by 0 (70%), U(0, D/5) (25%) or U(0, D) (5%) and released in (ts + delay) order, which bounds
// the disorder by D. With faults, 0.5% of lines are an extra dead letter (12 kinds drawn
// uniformly, each derived from the next event it fits), 0.05% blank or white-space lines, and
// 0.2% of lines end in CRLF. Disorder, faults and the simulation draw from separate random
// streams, so the valid events of a run depend on neither out_of_order_ms nor faults.
//
// Volume. Defaults (200 users, 24 features, 3 servers, 7 days) give ~0.1M lines (a third of them
// metrics), ~30 sessions per user and weekday; volume scales with users × days. Lines are built
// by hand (std::to_chars, pre-built field fragments) in a 1 MiB buffer: ~4-5M lines/s for
// thousands of users on one core, ~1.2M/s for 100k users, where cache misses on user state rule.
#include "engine/generator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <queue>
#include <string>
#include <vector>

namespace licflow {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr size_t kChunkBytes = size_t{1} << 20;

// ---------------------------------------------------------------------------------------------
// Randomness: xoshiro256** seeded through splitmix64, one instance per independent stream.

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A stateless hash for per-(user, day) decisions, so they need no table.
uint64_t mix(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t s = a ^ (b * 0xd6e8feb86659fd93ULL) ^ (c * 0xa0761d6478bd642fULL);
  return splitmix64(s);
}

double unit_from_bits(uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t st = seed ^ (stream * 0x632be59bd9b4e019ULL);
    for (auto& w : s_) w = splitmix64(st);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  double uniform() { return unit_from_bits(next()); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  bool chance(double p) { return uniform() < p; }
  // Uniform in [0, n); n > 0. The multiply-shift bias is far below anything observable here.
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  int64_t between(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1)));
  }
  double exponential(double rate) { return -std::log1p(-uniform()) / rate; }
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1], keeps log finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_;
};

// Stream ids: the simulation, the disorder and the faults never share draws.
constexpr uint64_t kSimStream = 1;
constexpr uint64_t kModelStream = 2;
constexpr uint64_t kDisorderStream = 3;
constexpr uint64_t kFaultStream = 4;

// ---------------------------------------------------------------------------------------------
// Text helpers.

// Lines are built through a raw pointer into a buffer with room to spare (see LineWriter):
// no capacity checks and no zero-filling on the hot path.
char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* put_int(char* p, int64_t v) { return std::to_chars(p, p + 24, v).ptr; }

char* put_padded(char* p, int64_t v, int width) {
  char tmp[24];
  const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  for (int n = static_cast<int>(r.ptr - tmp); n < width; ++n) *p++ = '0';
  return put(p, std::string_view(tmp, static_cast<size_t>(r.ptr - tmp)));
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 -> civil date (proleptic Gregorian).
void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

// RFC 3339 spellings that all denote exactly `ms`: style 0 `…T09:15:00.123Z`, 1 lower-case
// `t`/`z`, 2 space separator, 3 `+01:00`, 4 `-05:00`, 5 microseconds.
char* put_rfc3339(char* p, int64_t ms, int style) {
  const int offset_min = style == 3 ? 60 : style == 4 ? -300 : 0;
  const int64_t local = ms + offset_min * kMinute;
  const int64_t days = floor_div(local, kDay);
  const int64_t in_day = local - days * kDay;
  int64_t y;
  int m, d;
  civil_from_days(days, y, m, d);
  p = put_padded(p, y, 4);
  *p++ = '-';
  p = put_padded(p, m, 2);
  *p++ = '-';
  p = put_padded(p, d, 2);
  *p++ = style == 1 ? 't' : style == 2 ? ' ' : 'T';
  p = put_padded(p, in_day / kHour, 2);
  *p++ = ':';
  p = put_padded(p, in_day / kMinute % 60, 2);
  *p++ = ':';
  p = put_padded(p, in_day / kSecond % 60, 2);
  *p++ = '.';
  p = put_padded(p, in_day % kSecond, 3);
  if (style == 5) p = put(p, "000");
  if (offset_min == 0) {
    *p++ = style == 1 ? 'z' : 'Z';
  } else {
    const int a = std::abs(offset_min);
    *p++ = offset_min < 0 ? '-' : '+';
    p = put_padded(p, a / 60, 2);
    *p++ = ':';
    p = put_padded(p, a % 60, 2);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Inventory.

enum class FeatureKind : uint8_t { kInteractive, kSolver, kToken };

// Department bits.
constexpr uint8_t kMech = 1, kCfd = 2, kDesign = 4, kElec = 8, kResearch = 16;

struct FeatureSpec {
  const char* name;
  const char* vendor;
  const char* version;
  FeatureKind kind;
  double weight;
  uint8_t groups;
};

constexpr FeatureKind kI = FeatureKind::kInteractive;
constexpr FeatureKind kS = FeatureKind::kSolver;
constexpr FeatureKind kT = FeatureKind::kToken;

constexpr FeatureSpec kFeatureSpecs[] = {
    {"matlab_core", "mathworks", "R2025b", kI, 10, kMech | kCfd | kElec | kResearch},
    {"simulink", "mathworks", "R2025b", kI, 6, kElec | kResearch},
    {"ansys_mechanical", "ansys", "2025R2", kS, 6, kMech},
    {"ansys_fluent", "ansys", "2025R2", kS, 6, kCfd},
    {"solidworks", "dassault", "2025 SP3", kI, 8, kMech | kDesign},
    {"catia", "dassault", "V5-6R2024", kI, 5, kDesign | kMech},
    {"nx_cad", "siemens", "2406", kI, 5, kDesign | kMech},
    {"abaqus", "dassault", "2025", kS, 4, kMech | kResearch},
    {"comsol", "comsol", "6.3", kI, 4, kCfd | kResearch | kElec},
    {"ansys_hpc", "ansys", "2025R2", kT, 4, kCfd | kMech},
    {"star_ccm", "siemens", "2506", kS, 3, kCfd},
    {"autocad", "autodesk", "2026", kI, 6, kDesign},
    {"inventor", "autodesk", "2026", kI, 3, kDesign | kMech},
    {"creo", "ptc", "11.0", kI, 3, kDesign},
    {"hyperworks", "altair", "2025", kT, 2, kMech},
    {"msc_nastran", "hexagon", "2025.1", kS, 2, kMech},
    {"labview", "ni", "2025Q3", kI, 3, kElec | kResearch},
    {"cadence_virtuoso", "cadence", "IC23.1", kI, 4, kElec},
    {"synopsys_vcs", "synopsys", "V-2024.09", kS, 3, kElec},
    {"matlab_optimization", "mathworks", "R2025b", kI, 3, kResearch | kMech},
    {"matlab_signal", "mathworks", "R2025b", kI, 3, kElec | kResearch},
    {"ls_dyna", "ansys", "R15", kS, 2, kMech},
    {"altium_designer", "altium", "25.3", kI, 3, kElec},
    {"questa_sim", "siemens", "2025.2", kS, 2, kElec},
    {"ansys_hfss", "ansys", "2025R2", kS, 2, kElec},
    {"ansys_cfx", "ansys", "2025R2", kS, 2, kCfd},
    {"tecplot", "tecplot", "2025R1", kI, 2, kCfd},
    {"matlab_parallel", "mathworks", "R2025b", kI, 2, kCfd | kResearch},
    {"ansa", "beta_cae", "25.0", kI, 2, kMech | kCfd},
    {"keyshot", "luxion", "2025", kI, 1, kDesign},
    {"mathematica", "wolfram", "14.2", kI, 2, kResearch},
    {"maple", "maplesoft", "2025", kI, 1, kResearch},
};
constexpr int kNumSpecs = static_cast<int>(std::size(kFeatureSpecs));

struct GroupSpec {
  const char* name;
  double share;
  std::array<const char*, 4> projects;
};

constexpr GroupSpec kGroups[] = {
    {"mech-eng", 0.28, {"gearbox", "chassis", "turbine-blade", "crash-2027"}},
    {"cfd", 0.14, {"airfoil", "cooling-loop", "wind-tunnel", "combustor"}},
    {"design", 0.24, {"dashboard", "seat-frame", "packaging", "facelift"}},
    {"electronics", 0.22, {"inverter", "radar-asic", "bms", "antenna"}},
    {"research", 0.12, {"digital-twin", "optimizer", "materials", "horizon"}},
};
constexpr int kNumGroups = static_cast<int>(std::size(kGroups));
constexpr int kHpcNodes = 16;

// Weekday activity relative to the peak, per local hour (values at the hour's middle).
constexpr double kHourProfile[24] = {0.03, 0.03, 0.03, 0.03, 0.03, 0.04, 0.08, 0.30,
                                     0.65, 0.95, 1.00, 0.95, 0.70, 0.90, 1.00, 1.00,
                                     0.90, 0.60, 0.35, 0.18, 0.12, 0.08, 0.05, 0.04};
constexpr double kDowFactor[7] = {1.0, 1.05, 1.05, 1.0, 0.85, 0.7, 0.7};  // Monday first
constexpr double kWeekdayPresence = 0.93;
constexpr double kWeekendPresence = 0.12;
constexpr double kPeakRatePerHour = 6.0;
constexpr double kSessionSigma = 0.8;
constexpr int64_t kMinSession = 10 * kMinute;
constexpr int64_t kMaxSession = 12 * kHour;
constexpr int kMaxQueue = 20;

struct Server {
  std::string frag;  // ,"server":"lic-1"
  double base_rt = 100;
  bool down = false;
  bool degraded = false;
  int64_t degrade_start = 0;
  int64_t down_at = 0;
  int64_t up_at = 0;
  uint8_t down_reason = 0;
  int64_t in_use = 0;
  int64_t capacity = 0;
  int64_t open_sessions = 0;
  std::vector<uint32_t> features;
};

struct Feature {
  std::string name_frag;     // ,"feature":"matlab_core"
  std::string vendor_frag;   // ,"vendor":"mathworks"
  std::string version_frag;  // ,"version":"R2025b"
  std::string head_frag;     // server, feature and vendor in one copy
  uint32_t server = 0;
  FeatureKind kind = kI;
  double weight = 1;
  uint8_t groups = 0;
  double median_ms = 0;
  int64_t capacity = 0;
  // Simulation state.
  int64_t in_use = 0;
  std::vector<uint32_t> open;  // session ids
  std::deque<uint32_t> queue;  // queue entry ids, FIFO; inactive entries are skipped lazily
  int active_queued = 0;
};

// One cache line: a request touches a random user.
struct alignas(64) User {
  uint8_t group = 0;
  uint8_t n_projects = 0;
  uint8_t n_prefs = 0;
  uint8_t busy = 0;  // bit k: prefs[k] is held or waited for (the user never uses others)
  std::array<uint16_t, 2> projects{};
  float peak_rate_per_ms = 0;
  std::array<uint32_t, 6> prefs{};
  std::array<float, 6> pref_cum{};  // cumulative preference weights
};

struct Model {
  std::vector<Server> servers;
  std::vector<Feature> features;
  std::vector<User> users;
  std::vector<std::string> group_frags;
  std::vector<std::string> project_frags;  // group g's projects at g * 4 …
  std::vector<std::string> hpc_frags;
  // Per user, `stride` bytes: the length of `,"user":"u0001"`, the length of that followed by
  // `,"host":"ws-0001","group":"cfd"`, then that text. One cache line for the hottest text,
  // however many users there are.
  std::string user_text;
  size_t user_stride = 64;

  std::string_view user_frag(uint32_t u) const {
    const char* rec = user_text.data() + u * user_stride;
    return {rec + 2, static_cast<uint8_t>(rec[0])};
  }
  // User, workstation host and group, in one copy.
  std::string_view ws_frag(uint32_t u) const {
    const char* rec = user_text.data() + u * user_stride;
    return {rec + 2, static_cast<uint8_t>(rec[1])};
  }
};

std::string frag(std::string_view name, std::string_view value) {
  std::string s = ",\"";
  s += name;
  s += "\":\"";
  s += value;
  s += '"';
  return s;
}

std::string numbered(std::string_view prefix, int64_t n, int width) {
  char tmp[48];
  return std::string(prefix) + std::string(tmp, put_padded(tmp, n, width));
}

double mean_count(FeatureKind kind) { return kind == kT ? 21.0 : 1.0; }

double median_minutes(FeatureKind kind) { return kind == kI ? 25 : 70; }

double expected_session_ms(const Feature& f) {
  // Log-normal mean, ignoring the clamp (which only lifts the short tail a little).
  return std::max<double>(f.median_ms * std::exp(kSessionSigma * kSessionSigma / 2), kMinSession);
}

Model build_model(const GeneratorOptions& o) {
  Model m;
  Rng rng(o.seed, kModelStream);
  const int n_servers = std::max(o.servers, 1);
  const int n_features = std::max(o.features, 1);
  const int n_users = std::max(o.users, 1);

  for (int s = 0; s < n_servers; ++s) {
    Server sv;
    sv.frag = frag("server", numbered("lic-", s + 1, 1));
    sv.base_rt = rng.uniform(60, 140);
    m.servers.push_back(std::move(sv));
  }
  for (int i = 0; i < n_features; ++i) {
    const FeatureSpec& spec = kFeatureSpecs[i % kNumSpecs];
    const int copy = i / kNumSpecs;
    Feature f;
    std::string name = spec.name;
    if (copy > 0) {
      name += '_';
      name += std::to_string(copy + 1);
    }
    f.name_frag = frag("feature", name);
    f.vendor_frag = frag("vendor", spec.vendor);
    f.version_frag = frag("version", spec.version);
    f.server = static_cast<uint32_t>(i % n_servers);
    f.kind = spec.kind;
    f.weight = spec.weight / (1 + copy);
    f.groups = spec.groups;
    f.median_ms = median_minutes(spec.kind) * kMinute;
    f.head_frag = m.servers[f.server].frag + f.name_frag + f.vendor_frag;
    m.servers[f.server].features.push_back(static_cast<uint32_t>(i));
    m.features.push_back(std::move(f));
  }
  for (const auto& g : kGroups) {
    m.group_frags.push_back(frag("group", g.name));
    for (const char* p : g.projects) m.project_frags.push_back(frag("project", p));
  }
  for (int h = 1; h <= kHpcNodes; ++h) m.hpc_frags.push_back(frag("host", numbered("hpc-", h, 2)));

  // Per department, cumulative feature weights: its own tools count fully, others a little.
  std::vector<std::vector<double>> cum(kNumGroups);
  for (int g = 0; g < kNumGroups; ++g) {
    double acc = 0;
    for (const auto& f : m.features) {
      acc += f.weight * ((f.groups >> g) & 1 ? 1.0 : 0.06);
      cum[g].push_back(acc);
    }
  }

  std::vector<double> demand(m.features.size(), 0.0);
  for (int i = 0; i < n_users; ++i) {
    User u;
    double pick = rng.uniform(), acc = 0;
    u.group = kNumGroups - 1;
    for (int g = 0; g < kNumGroups; ++g) {
      acc += kGroups[g].share;
      if (pick < acc) {
        u.group = static_cast<uint8_t>(g);
        break;
      }
    }
    u.n_projects = static_cast<uint8_t>(rng.chance(0.35) ? 2 : 1);
    u.projects[0] = static_cast<uint16_t>(u.group * 4 + rng.below(4));
    u.projects[1] = static_cast<uint16_t>(u.group * 4 + rng.below(4));
    u.peak_rate_per_ms = static_cast<float>(kPeakRatePerHour * rng.lognormal(1.0, 0.35) / kHour);

    const auto& c = cum[u.group];
    const int want = std::min<int>(static_cast<int>(rng.between(3, 6)), n_features);
    double total = 0;
    for (int tries = 0; u.n_prefs < want && tries < 64; ++tries) {
      const double x = rng.uniform() * c.back();
      const auto f = static_cast<uint32_t>(std::upper_bound(c.begin(), c.end(), x) - c.begin());
      const uint32_t fi = std::min<uint32_t>(f, static_cast<uint32_t>(n_features - 1));
      if (std::find(u.prefs.begin(), u.prefs.begin() + u.n_prefs, fi) !=
          u.prefs.begin() + u.n_prefs) {
        continue;
      }
      // Earlier picks are the more popular tools; the first is the user's main tool.
      total += rng.uniform(0.3, 1.0) * (u.n_prefs == 0 ? 2.0 : 1.0);
      u.prefs[u.n_prefs] = fi;
      u.pref_cum[u.n_prefs] = static_cast<float>(total);
      ++u.n_prefs;
    }
    // Expected weekday-peak occupancy: a user holds at most one seat of a feature, so the share
    // of time held is rho / (1 + rho) (a one-seat loss system).
    double prev = 0;
    total = u.pref_cum[u.n_prefs - 1];
    for (int k = 0; k < u.n_prefs; ++k) {
      const Feature& f = m.features[u.prefs[k]];
      const double p = (u.pref_cum[k] - prev) / total;
      prev = u.pref_cum[k];
      const double rho = u.peak_rate_per_ms * kWeekdayPresence * p * expected_session_ms(f);
      demand[u.prefs[k]] += rho / (1 + rho) * mean_count(f.kind);
    }
    const std::string user = frag("user", numbered("u", i + 1, 4));
    const std::string ws = user + frag("host", numbered("ws-", i + 1, 4)) + m.group_frags[u.group];
    if (i == 0) {
      m.user_stride = (ws.size() + 8 + 2 + 63) / 64 * 64;  // room for a few more digits
      m.user_text.reserve(m.user_stride * static_cast<size_t>(n_users));
    }
    std::string rec(m.user_stride, '\0');
    rec[0] = static_cast<char>(user.size());
    rec[1] = static_cast<char>(ws.size());
    rec.replace(2, ws.size(), ws);
    m.user_text += rec;
    m.users.push_back(std::move(u));
  }
  for (size_t i = 0; i < m.features.size(); ++i) {
    Feature& f = m.features[i];
    const double cap = demand[i] * rng.uniform(0.9, 1.6);
    if (f.kind == kT) {
      f.capacity = std::max<int64_t>(64, (static_cast<int64_t>(cap) + 7) / 8 * 8);
    } else {
      f.capacity = std::max<int64_t>(2, std::llround(cap));
    }
    m.servers[f.server].capacity += f.capacity;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Output events and their text.

enum class EventType : uint8_t {
  kCheckout,
  kCheckin,
  kDenied,
  kQueued,
  kDequeued,
  kServerUp,
  kServerDown,
  kMetric
};

constexpr std::string_view kTypeFrags[] = {",\"type\":\"checkout\"",    ",\"type\":\"checkin\"",
                                           ",\"type\":\"denied\"",      ",\"type\":\"queued\"",
                                           ",\"type\":\"dequeued\"",    ",\"type\":\"server_up\"",
                                           ",\"type\":\"server_down\"", ",\"type\":\"metric\""};

enum Reason : uint8_t { kNoReason, kInactive, kTimeout, kShutdown, kCrash, kMaintenance };

constexpr std::string_view kReasonFrags[] = {"",
                                             ",\"reason\":\"inactive\"",
                                             ",\"reason\":\"timeout\"",
                                             ",\"reason\":\"shutdown\"",
                                             ",\"reason\":\"crash\"",
                                             ",\"reason\":\"maintenance\""};

struct OutEvent {
  int64_t ts = 0;
  int64_t count = 0;   // <= 0: absent
  int64_t number = 0;  // handle (0: none) | queue time ms | response time ms
  int64_t capacity = -1;
  uint32_t user = 0;
  uint32_t feature = 0;
  uint32_t server = 0;
  uint32_t open_sessions = 0;
  uint16_t project = 0;
  EventType type = EventType::kCheckout;
  uint8_t host = 0;  // 0: the user's workstation, else hpc node host - 1
  uint8_t reason = kNoReason;
  uint8_t ts_style = 0;  // 0: integer, else RFC 3339 style + 1
};

bool is_license(EventType t) { return t <= EventType::kDequeued; }

enum Fault : uint8_t {
  kNoFault,
  kTruncated,
  kNotObject,
  kMissingTs,
  kMissingType,
  kUnknownType,
  kMissingFeature,
  kCountFloat,
  kCountString,
  kNegativeCapacity,
  kBadDate,
  kNaN,
  kInvalidUtf8,
  kFaultKinds
};

constexpr double kFaultRate = 0.005;
constexpr double kBlankRate = 0.0005;
constexpr double kCrlfRate = 0.002;

// Room past kChunkBytes for the line that crosses it (a line, with a fault line before it, is
// far below this).
constexpr size_t kSlackBytes = 64 * 1024;

class LineWriter {
 public:
  LineWriter(const Model& model, const GeneratorOptions& options,
             const std::function<void(std::string_view)>& out)
      : model_(model),
        out_(out),
        faults_(options.faults),
        rng_(options.seed, kFaultStream),
        buf_(new char[kChunkBytes + kSlackBytes]),
        p_(buf_.get()) {}

  void write(const OutEvent& e) {
    if (faults_) inject_before(e);
    format(e, kNoFault);
    if (faults_ && rng_.chance(kCrlfRate)) *p_++ = '\r';
    end_line();
  }

  uint64_t finish() {
    flush();
    return lines_;
  }

 private:
  static bool applicable(Fault f, const OutEvent& e) {
    switch (f) {
      case kMissingFeature:
      case kCountFloat:
      case kCountString:
      case kNegativeCapacity:
        return is_license(e.type);
      case kNaN:
        return e.type == EventType::kMetric;
      default:
        return true;
    }
  }

  void inject_before(const OutEvent& e) {
    const double u = rng_.uniform();
    if (u < kFaultRate) {
      const auto f = static_cast<Fault>(1 + rng_.below(kFaultKinds - 1));
      // A fault that needs another kind of event waits for one, keeping every kind's share.
      if (applicable(f, e)) {
        write_fault(f, e);
      } else {
        ++pending_[f];
        ++pending_total_;
      }
    } else if (u < kFaultRate + kBlankRate) {
      static constexpr std::string_view kBlanks[] = {"", "   ", "\t", " \r"};
      p_ = put(p_, kBlanks[rng_.below(std::size(kBlanks))]);
      end_line();
    }
    if (pending_total_ > 0) {
      for (int f = 1; f < kFaultKinds; ++f) {
        if (pending_[f] > 0 && applicable(static_cast<Fault>(f), e)) {
          --pending_[f];
          --pending_total_;
          write_fault(static_cast<Fault>(f), e);
          break;
        }
      }
    }
  }

  void write_fault(Fault f, const OutEvent& e) {
    char* const start = p_;
    if (f == kTruncated) {
      format(e, kNoFault);
      // Any strict prefix of an object is invalid JSON: it lacks at least the closing brace.
      p_ = start + 1 + rng_.below(static_cast<uint64_t>(p_ - start - 1));
    } else if (f == kNotObject) {
      switch (rng_.below(5)) {
        case 0:
          *p_++ = '[';
          p_ = put_int(p_, e.ts);
          p_ = put(p_, ",\"checkout\"]");
          break;
        case 1:
          p_ = put(p_, "\"checkout\"");
          break;
        case 2:
          p_ = put_int(p_, e.ts);
          break;
        case 3:
          p_ = put(p_, "null");
          break;
        default:
          p_ = put(p_, "[]");
          break;
      }
    } else {
      format(e, f);
    }
    end_line();
  }

  void end_line() {
    *p_++ = '\n';
    ++lines_;
    if (static_cast<size_t>(p_ - buf_.get()) >= kChunkBytes) flush();
  }

  void flush() {
    if (p_ != buf_.get()) out_(std::string_view(buf_.get(), static_cast<size_t>(p_ - buf_.get())));
    p_ = buf_.get();
  }

  void put_ts(const OutEvent& e) {
    if (e.ts_style == 0) {
      p_ = put(p_, ",\"ts\":");
      p_ = put_int(p_, e.ts);
    } else {
      p_ = put(p_, ",\"ts\":\"");
      p_ = put_rfc3339(p_, e.ts, e.ts_style - 1);
      *p_++ = '"';
    }
  }

  void put_bad_date(int64_t ts) {
    p_ = put(p_, ",\"ts\":\"");
    char* const date = p_;  // YYYY-MM-DDThh:mm:ss.sssZ
    p_ = put_rfc3339(p_, ts, 0);
    switch (rng_.below(5)) {
      case 0:
        std::memcpy(date + 5, "13", 2);  // month
        break;
      case 1:
        std::memcpy(date + 11, "25", 2);  // hour
        break;
      case 2:
        std::memcpy(date + 8, "32", 2);  // day
        break;
      case 3:
        --p_;  // no zone
        break;
      default:
        p_ = put(date, "yesterday 09:15");
        break;
    }
    *p_++ = '"';
  }

  // Appends the event as one JSON object (no newline), bent by `fault`. Every field is written
  // with a leading comma; the first comma then becomes the opening brace.
  void format(const OutEvent& e, Fault fault) {
    char* const start = p_;
    if (fault == kBadDate) {
      put_bad_date(e.ts);
    } else if (fault != kMissingTs) {
      put_ts(e);
    }
    if (fault == kUnknownType) {
      static constexpr std::string_view kUnknown[] = {
          ",\"type\":\"Checkout\"", ",\"type\":\"heartbeat\"", ",\"type\":\"license_borrow\"",
          ",\"type\":\"checkout \"", ",\"type\":\"denial\""};
      p_ = put(p_, kUnknown[rng_.below(std::size(kUnknown))]);
    } else if (fault != kMissingType) {
      p_ = put(p_, kTypeFrags[static_cast<int>(e.type)]);
    }
    if (is_license(e.type)) {
      const Feature& f = model_.features[e.feature];
      if (fault == kMissingFeature) {
        p_ = put(p_, model_.servers[f.server].frag);
        p_ = put(p_, f.vendor_frag);
      } else {
        p_ = put(p_, f.head_frag);
      }
      if (e.type == EventType::kCheckout) p_ = put(p_, f.version_frag);
      if (e.host == 0) {
        p_ = put(p_, model_.ws_frag(e.user));
      } else {
        p_ = put(p_, model_.user_frag(e.user));
        p_ = put(p_, model_.hpc_frags[e.host - 1]);
        p_ = put(p_, model_.group_frags[model_.users[e.user].group]);
      }
      p_ = put(p_, model_.project_frags[e.project]);
      if (fault == kCountFloat) {
        p_ = put(p_, ",\"count\":");
        p_ = put_int(p_, e.count > 0 ? e.count : 2);
        p_ = put(p_, ".0");
      } else if (fault == kCountString) {
        p_ = put(p_, ",\"count\":\"x\"");
      } else if (e.count > 0) {
        p_ = put(p_, ",\"count\":");
        p_ = put_int(p_, e.count);
      }
      if ((e.type == EventType::kCheckout || e.type == EventType::kCheckin) && e.number > 0) {
        p_ = put(p_, ",\"handle\":\"h");
        p_ = put_int(p_, e.number);
        *p_++ = '"';
      }
      if (fault == kNegativeCapacity) {
        p_ = put(p_, ",\"capacity\":-1");
      } else if (e.capacity >= 0) {
        p_ = put(p_, ",\"capacity\":");
        p_ = put_int(p_, e.capacity);
      }
      if (e.type == EventType::kDequeued) {
        p_ = put(p_, ",\"queue_time_s\":");
        p_ = put_int(p_, e.number / kSecond);
        *p_++ = '.';
        p_ = put_padded(p_, e.number % kSecond, 3);
      }
    } else {
      p_ = put(p_, model_.servers[e.server].frag);
      if (e.type == EventType::kMetric) {
        p_ = put(p_, ",\"response_time_ms\":");
        if (fault == kNaN) {
          static constexpr std::string_view kNonFinite[] = {"NaN", "Infinity", "-Infinity"};
          p_ = put(p_, kNonFinite[rng_.below(std::size(kNonFinite))]);
        } else {
          p_ = put_int(p_, e.number);
        }
        p_ = put(p_, ",\"open_sessions\":");
        p_ = put_int(p_, e.open_sessions);
      }
    }
    p_ = put(p_, kReasonFrags[e.reason]);
    // A Latin-1 byte, as a misconfigured server would write it.
    if (fault == kInvalidUtf8) p_ = put(p_, ",\"site\":\"M\xFCnchen\"");
    *start = '{';
    *p_++ = '}';
  }

  const Model& model_;
  const std::function<void(std::string_view)>& out_;
  const bool faults_;
  Rng rng_;
  std::unique_ptr<char[]> buf_;
  char* p_;
  uint64_t lines_ = 0;
  std::array<uint32_t, kFaultKinds> pending_{};
  uint32_t pending_total_ = 0;
};

// Holds events back by a random delay <= D and releases them in (ts + delay, seq) order: a released
// event's ts is >= its release time - D >= every earlier release time - D >= every earlier ts - D.
class Disorder {
 public:
  Disorder(LineWriter& writer, const GeneratorOptions& options)
      : writer_(writer),
        max_delay_(std::max<int64_t>(options.out_of_order_ms, 0)),
        rng_(options.seed, kDisorderStream) {}

  void emit(const OutEvent& e) {
    if (max_delay_ == 0) {
      writer_.write(e);
      return;
    }
    const double u = rng_.uniform();
    int64_t delay = 0;
    if (u >= 0.95) {
      delay = rng_.between(0, max_delay_);
    } else if (u >= 0.70) {
      delay = rng_.between(0, max_delay_ / 5);
    }
    // Events of one instant keep their order (a checkin, then the queued user's checkout that
    // takes the freed seat): a later one is never released before an earlier one.
    if (e.ts == last_ts_) delay = std::max(delay, last_delay_);
    last_ts_ = e.ts;
    last_delay_ = delay;
    heap_.push(Held{e.ts + delay, seq_++, e});
    // Events still to come have ts >= e.ts, hence release times >= e.ts.
    while (!heap_.empty() && heap_.top().release <= e.ts) {
      writer_.write(heap_.top().event);
      heap_.pop();
    }
  }

  void finish() {
    while (!heap_.empty()) {
      writer_.write(heap_.top().event);
      heap_.pop();
    }
  }

 private:
  struct Held {
    int64_t release;
    uint64_t seq;
    OutEvent event;
  };
  struct Later {
    bool operator()(const Held& a, const Held& b) const {
      return a.release != b.release ? a.release > b.release : a.seq > b.seq;
    }
  };

  LineWriter& writer_;
  const int64_t max_delay_;
  Rng rng_;
  uint64_t seq_ = 0;
  int64_t last_ts_ = 0;
  int64_t last_delay_ = 0;
  std::priority_queue<Held, std::vector<Held>, Later> heap_;
};

// ---------------------------------------------------------------------------------------------
// The simulation.

// 16 bytes. `key` is (t - start) << 8 | kind << 4 | c, so equal times break ties by kind,
// deterministically.
struct Action {
  uint64_t key;
  uint32_t a;
  uint32_t b;
};

// A bucket queue: actions further ahead than the current minute wait, unsorted, in their
// minute's bucket; only the current minute's are in a binary heap. Checkins are scheduled hours
// ahead, and a heap of all of them (one per open session) made heap sifting the main cost.
class ActionQueue {
 public:
  // Minute buckets, but at most ~1M of them, however many days are simulated.
  explicit ActionQueue(int64_t span_ms)
      : bucket_ms_(std::max<uint64_t>(kMinute, static_cast<uint64_t>(span_ms) >> 20)),
        buckets_(
            static_cast<size_t>((static_cast<uint64_t>(span_ms) + bucket_ms_ - 1) / bucket_ms_)) {}

  // Actions at or past the end of the span are dropped: they would never run.
  void push(const Action& a) {
    const uint64_t b = (a.key >> 8) / bucket_ms_;
    if (b >= buckets_.size()) return;
    if (b <= current_) {
      near_.push_back(a);
      std::push_heap(near_.begin(), near_.end(), later);
    } else {
      buckets_[b].push_back(a);
    }
  }

  bool pop(Action& a) {
    while (near_.empty()) {
      if (current_ + 1 >= buckets_.size()) return false;
      ++current_;
      near_.swap(buckets_[current_]);
      std::vector<Action>().swap(buckets_[current_]);  // give the memory back
      std::make_heap(near_.begin(), near_.end(), later);
    }
    std::pop_heap(near_.begin(), near_.end(), later);
    a = near_.back();
    near_.pop_back();
    return true;
  }

 private:
  static bool later(const Action& x, const Action& y) { return x.key > y.key; }

  const uint64_t bucket_ms_;
  std::vector<std::vector<Action>> buckets_;
  std::vector<Action> near_;
  uint64_t current_ = 0;
};

class Simulation {
 public:
  Simulation(Model& model, const GeneratorOptions& options, Disorder& sink)
      : m_(model),
        sink_(sink),
        rng_(options.seed, kSimStream),
        seed_(options.seed),
        start_(options.start_ms),
        end_(options.start_ms + std::max(options.days, 1) * kDay),
        queue_(end_ - start_) {
    for (int i = 0; i < 1440; ++i) {
      // Linear between hour midpoints, so the ramps have no steps.
      const double h = (i + 0.5) / 60.0 - 0.5;
      const int h0 = static_cast<int>(std::floor(h));
      const double frac = h - h0;
      const double a = kHourProfile[(h0 + 24) % 24], b = kHourProfile[(h0 + 1) % 24];
      profile_[i] = a + (b - a) * frac;
      hour_max_[i / 60] = std::max(hour_max_[i / 60], profile_[i]);
    }
  }

  void run() {
    arrival_clock_ = static_cast<double>(start_);
    schedule_arrival();
    for (uint32_t s = 0; s < m_.servers.size(); ++s) {
      schedule(start_ + rng_.between(0, kMinute - 1), kMetricTick, s);
      schedule(start_ + static_cast<int64_t>(rng_.exponential(1.0 / (4.0 * kDay))), kOutageStart,
               s);
    }
    const int64_t first_day = floor_div(start_, kDay);
    for (int64_t day = first_day; day * kDay < end_; ++day) {
      if (day_of_week(day) != 6) continue;
      for (uint32_t s = 0; s < m_.servers.size(); ++s) {
        if (!rng_.chance(0.5)) continue;
        const int64_t at =
            day * kDay + 2 * kHour + s * 25 * kMinute + rng_.between(0, 10 * kMinute);
        if (at < start_) continue;
        schedule(at, kServerDown, s, static_cast<uint32_t>(rng_.between(10, 40) * kMinute),
                 kMaintenance);
      }
    }
    Action a;
    while (queue_.pop(a)) {
      now_ = start_ + static_cast<int64_t>(a.key >> 8);
      dispatch(a);
    }
  }

 private:
  enum Kind : uint8_t {
    kArrival,
    kRetry,
    kCheckinDue,
    kQueueTimeout,
    kMetricTick,
    kOutageStart,
    kServerDown,
    kServerUp
  };

  struct Session {
    uint32_t user;
    uint32_t feature;
    uint32_t gen;
    uint32_t pos;  // index in the feature's open list
    int64_t count;
    uint64_t handle;
    uint16_t project;
    uint8_t host;
    bool count_written;
  };

  struct QueueEntry {
    uint32_t user;
    uint32_t feature;
    uint32_t gen;
    int64_t count;
    int64_t since;
    uint16_t project;
    uint8_t host;
    bool count_written;
    bool active;
  };

  // REQUIRES: t >= start_, c < 16.
  void schedule(int64_t t, uint8_t kind, uint32_t a, uint32_t b = 0, uint32_t c = 0) {
    queue_.push(Action{static_cast<uint64_t>(t - start_) << 8 | uint64_t{kind} << 4 | c, a, b});
  }

  static int day_of_week(int64_t day) { return static_cast<int>(((day + 3) % 7 + 7) % 7); }

  void dispatch(const Action& a) {
    const auto c = static_cast<uint8_t>(a.key & 15);
    switch ((a.key >> 4) & 15) {
      case kArrival:
        on_arrival();
        break;
      case kRetry:
        if (!is_busy(a.a, a.b)) attempt(a.a, a.b, c);
        break;
      case kCheckinDue:
        on_checkin(a.a, a.b);
        break;
      case kQueueTimeout:
        on_queue_timeout(a.a, a.b);
        break;
      case kMetricTick:
        on_metric(a.a);
        break;
      case kOutageStart:
        on_outage_start(a.a);
        break;
      case kServerDown:
        on_server_down(a.a, a.b, c);
        break;
      case kServerUp:
        on_server_up(a.a);
        break;
    }
  }

  // --- demand ---------------------------------------------------------------------------------

  // A user's request rate on `day` at the profile's peak: 0 when the user stays home.
  double day_rate(uint32_t user, int64_t day) const {
    const int dow = day_of_week(day);
    const double presence = dow >= 5 ? kWeekendPresence : kWeekdayPresence;
    if (unit_from_bits(mix(seed_, user + 1, static_cast<uint64_t>(day))) >= presence) return 0;
    const double day_factor =
        0.85 + 0.3 * unit_from_bits(mix(seed_, 0, static_cast<uint64_t>(day)));
    return m_.users[user].peak_rate_per_ms * kDowFactor[dow] * day_factor;
  }

  // The users present on `day` and an alias table over their request rates: the site's
  // requests form one Poisson process (the sum of the users'), so one pending arrival stands for
  // all users, and a request finds its user in O(1) (Vose's alias method).
  void build_day(int64_t day) {
    day_ = day;
    std::vector<uint32_t> users;
    std::vector<double> w;
    double total = 0;
    for (uint32_t u = 0; u < m_.users.size(); ++u) {
      const double r = day_rate(u, day);
      if (r <= 0) continue;
      users.push_back(u);
      w.push_back(r);
      total += r;
    }
    day_total_ = total;
    const size_t n = w.size();
    alias_.resize(n);
    for (size_t i = 0; i < n; ++i) alias_[i] = AliasSlot{1.0f, users[i], users[i]};
    std::vector<uint32_t> small, large;
    for (size_t i = 0; i < n; ++i) {
      w[i] *= static_cast<double>(n) / total;
      (w[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back(), l = large.back();
      small.pop_back();
      alias_[s].prob = static_cast<float>(w[s]);
      alias_[s].alias = users[l];
      w[l] -= 1.0 - w[s];
      if (w[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    // Leftovers keep probability 1: they are 1 up to rounding.
  }

  uint32_t pick_user() {
    const auto i = static_cast<uint32_t>(rng_.below(alias_.size()));
    const AliasSlot slot = alias_[i];
    return rng_.uniform() < slot.prob ? slot.user : slot.alias;
  }

  // Thinning with a bound per hour (the hour's highest profile value), so nights cost a draw per
  // hour rather than many rejected arrivals. Restarting at an hour boundary is exact, as the
  // exponential has no memory. The clock is fractional: rounding each gap to whole
  // milliseconds would bias the rate when thousands of users share it.
  void schedule_arrival() {
    double t = arrival_clock_;
    while (t < static_cast<double>(end_)) {
      const auto ms = static_cast<int64_t>(std::floor(t));
      const int64_t day = floor_div(ms, kDay);
      if (day != day_) build_day(day);
      if (alias_.empty()) {
        t = static_cast<double>((day + 1) * kDay);
        continue;
      }
      const int64_t hour_end = (floor_div(ms, kHour) + 1) * kHour;
      const double bound = day_total_ * hour_max_[(hour_end - 1 - day * kDay) / kHour];
      const double candidate = t + rng_.exponential(bound);
      if (candidate < static_cast<double>(hour_end)) {
        arrival_clock_ = candidate;
        schedule(static_cast<int64_t>(std::floor(candidate)), kArrival, 0);
        return;
      }
      t = static_cast<double>(hour_end);
    }
    arrival_clock_ = t;
  }

  void on_arrival() {
    const int64_t in_day = now_ - floor_div(now_, kDay) * kDay;
    if (rng_.uniform() * hour_max_[in_day / kHour] < profile_[in_day / kMinute]) {
      const uint32_t user = pick_user();
      const User& u = m_.users[user];
      const double y = rng_.uniform() * u.pref_cum[u.n_prefs - 1];
      int k = 0;
      while (k + 1 < u.n_prefs && y >= u.pref_cum[k]) ++k;
      if (!(u.busy & (1u << k))) attempt(user, u.prefs[k], 0);
    }
    schedule_arrival();
  }

  static uint8_t pref_bit(const User& u, uint32_t f) {
    for (int k = 0; k < u.n_prefs; ++k) {
      if (u.prefs[k] == f) return static_cast<uint8_t>(1u << k);
    }
    return 0;
  }
  bool is_busy(uint32_t user, uint32_t f) const {
    const User& u = m_.users[user];
    return (u.busy & pref_bit(u, f)) != 0;
  }
  void set_busy(uint32_t user, uint32_t f, bool on) {
    User& u = m_.users[user];
    const uint8_t bit = pref_bit(u, f);
    u.busy = static_cast<uint8_t>(on ? (u.busy | bit) : (u.busy & ~bit));
  }

  void attempt(uint32_t user, uint32_t fi, int tries) {
    Feature& f = m_.features[fi];
    Server& sv = m_.servers[f.server];
    if (sv.down) {
      // The client cannot reach the server and logs nothing there; the user tries again later.
      if (tries < 4) schedule(now_ + rng_.between(3, 15) * kMinute, kRetry, user, fi, tries + 1);
      return;
    }
    const User& u = m_.users[user];
    int64_t count = 1;
    bool count_written = true;
    uint8_t host = 0;
    if (f.kind == kT) {
      static constexpr int64_t kTokens[] = {4, 8, 8, 16, 16, 32, 64};
      count = kTokens[rng_.below(std::size(kTokens))];
    } else {
      count_written = !rng_.chance(0.05);
    }
    if (f.kind != kI && rng_.chance(0.35)) host = static_cast<uint8_t>(1 + rng_.below(kHpcNodes));
    const uint16_t project = u.projects[u.n_projects == 2 ? rng_.below(2) : 0];

    if (f.active_queued == 0 && f.in_use + count <= f.capacity) {
      open_session(user, fi, count, count_written, host, project);
      return;
    }
    OutEvent e = license_event(EventType::kDenied, user, fi, host, project);
    e.count = count_written ? count : 0;
    e.capacity = f.capacity;
    emit(e);
    if (f.active_queued < kMaxQueue && rng_.chance(0.35)) {
      const uint32_t qi = alloc_entry();
      QueueEntry& q = entries_[qi];
      q.user = user;
      q.feature = fi;
      q.count = count;
      q.since = now_;
      q.project = project;
      q.host = host;
      q.count_written = count_written;
      q.active = true;
      f.queue.push_back(qi);
      ++f.active_queued;
      set_busy(user, fi, true);
      OutEvent qe = license_event(EventType::kQueued, user, fi, host, project);
      qe.count = e.count;
      emit(qe);
      schedule(now_ + rng_.between(5 * kMinute, 90 * kMinute), kQueueTimeout, qi, q.gen);
    } else if (tries < 3 && rng_.chance(0.5)) {
      schedule(now_ + rng_.between(2 * kMinute, 20 * kMinute), kRetry, user, fi, tries + 1);
    }
  }

  OutEvent license_event(EventType type, uint32_t user, uint32_t fi, uint8_t host,
                         uint16_t project) const {
    OutEvent e;
    e.type = type;
    e.user = user;
    e.feature = fi;
    e.host = host;
    e.project = project;
    return e;
  }

  void open_session(uint32_t user, uint32_t fi, int64_t count, bool count_written, uint8_t host,
                    uint16_t project) {
    Feature& f = m_.features[fi];
    Server& sv = m_.servers[f.server];
    uint32_t si;
    if (!free_sessions_.empty()) {
      si = free_sessions_.back();
      free_sessions_.pop_back();
    } else {
      si = static_cast<uint32_t>(sessions_.size());
      sessions_.push_back(Session{});
    }
    Session& s = sessions_[si];
    s.user = user;
    s.feature = fi;
    s.count = count;
    s.count_written = count_written;
    s.host = host;
    s.project = project;
    s.handle = rng_.chance(0.01) ? 0 : ++next_handle_;
    s.pos = static_cast<uint32_t>(f.open.size());
    f.open.push_back(si);
    f.in_use += count;
    sv.in_use += count;
    ++sv.open_sessions;
    set_busy(user, fi, true);

    OutEvent e = license_event(EventType::kCheckout, user, fi, host, project);
    e.count = count_written ? count : 0;
    e.number = static_cast<int64_t>(s.handle);
    e.capacity = f.capacity;
    emit(e);
    const double ms = rng_.lognormal(f.median_ms, kSessionSigma);
    const auto duration = std::clamp<int64_t>(static_cast<int64_t>(ms), kMinSession, kMaxSession);
    schedule(now_ + duration, kCheckinDue, si, s.gen);
  }

  // Frees a session's seat; its pending checkin becomes stale through the generation.
  void close_session(uint32_t si) {
    Session& s = sessions_[si];
    Feature& f = m_.features[s.feature];
    Server& sv = m_.servers[f.server];
    const uint32_t last = f.open.back();
    f.open[s.pos] = last;
    sessions_[last].pos = s.pos;
    f.open.pop_back();
    f.in_use -= s.count;
    sv.in_use -= s.count;
    --sv.open_sessions;
    set_busy(s.user, s.feature, false);
    ++s.gen;
    free_sessions_.push_back(si);
  }

  void on_checkin(uint32_t si, uint32_t gen) {
    Session& s = sessions_[si];
    if (s.gen != gen) return;
    OutEvent e = license_event(EventType::kCheckin, s.user, s.feature, s.host, s.project);
    e.count = s.count_written ? s.count : 0;
    e.number = static_cast<int64_t>(s.handle);
    e.reason = rng_.chance(0.06) ? kInactive : kNoReason;
    emit(e);
    const uint32_t fi = s.feature;
    close_session(si);
    serve_queue(fi);
  }

  uint32_t alloc_entry() {
    if (!free_entries_.empty()) {
      const uint32_t qi = free_entries_.back();
      free_entries_.pop_back();
      return qi;
    }
    entries_.push_back(QueueEntry{});
    return static_cast<uint32_t>(entries_.size() - 1);
  }

  void free_entry(uint32_t qi) {
    ++entries_[qi].gen;
    entries_[qi].active = false;
    free_entries_.push_back(qi);
  }

  void emit_dequeued(const QueueEntry& q, uint8_t reason) {
    OutEvent e = license_event(EventType::kDequeued, q.user, q.feature, q.host, q.project);
    e.count = q.count_written ? q.count : 0;
    e.number = now_ - q.since;
    e.reason = reason;
    emit(e);
  }

  void serve_queue(uint32_t fi) {
    Feature& f = m_.features[fi];
    while (!f.queue.empty()) {
      const uint32_t qi = f.queue.front();
      QueueEntry q = entries_[qi];
      if (!q.active) {
        f.queue.pop_front();
        free_entry(qi);
        continue;
      }
      if (f.in_use + q.count > f.capacity) break;
      f.queue.pop_front();
      free_entry(qi);
      --f.active_queued;
      emit_dequeued(q, kNoReason);
      open_session(q.user, fi, q.count, q.count_written, q.host, q.project);
    }
  }

  void on_queue_timeout(uint32_t qi, uint32_t gen) {
    QueueEntry& q = entries_[qi];
    if (q.gen != gen || !q.active) return;
    q.active = false;  // freed when it reaches the head of the queue
    Feature& f = m_.features[q.feature];
    --f.active_queued;
    set_busy(q.user, q.feature, false);
    emit_dequeued(q, kTimeout);
    // The head may have been blocking smaller requests behind it.
    serve_queue(q.feature);
  }

  // --- servers --------------------------------------------------------------------------------

  void on_metric(uint32_t s) {
    Server& sv = m_.servers[s];
    if (!sv.down) {
      const double load = sv.capacity > 0 ? static_cast<double>(sv.in_use) / sv.capacity : 0;
      double rt = sv.base_rt * (1 + 0.5 * load) * rng_.lognormal(1.0, 0.2);
      if (sv.degraded && sv.down_at > sv.degrade_start) {
        const double x =
            static_cast<double>(now_ - sv.degrade_start) / (sv.down_at - sv.degrade_start);
        rt *= 1 + 40 * x * x;
      } else if (rng_.chance(0.002)) {
        rt *= rng_.uniform(4, 10);
      }
      OutEvent e;
      e.type = EventType::kMetric;
      e.server = s;
      e.number = std::max<int64_t>(1, std::llround(rt));
      e.open_sessions = static_cast<uint32_t>(sv.open_sessions);
      emit(e);
    }
    schedule(now_ + kMinute + rng_.between(-1500, 1500), kMetricTick, s);
  }

  void on_outage_start(uint32_t s) {
    Server& sv = m_.servers[s];
    if (sv.down || sv.degraded) {
      schedule(now_ + static_cast<int64_t>(rng_.exponential(1.0 / (4.0 * kDay))), kOutageStart, s);
      return;
    }
    sv.degraded = true;
    sv.degrade_start = now_;
    sv.down_at = now_ + rng_.between(5 * kMinute, 25 * kMinute);
    schedule(sv.down_at, kServerDown, s, static_cast<uint32_t>(rng_.between(2, 20) * kMinute),
             kCrash);
  }

  void on_server_down(uint32_t s, uint32_t duration, uint8_t reason) {
    Server& sv = m_.servers[s];
    // A maintenance slot that meets an outage already in progress is dropped; a crash cannot
    // meet one (its lead-up starts only on a healthy server), but stay safe.
    if (sv.down || (reason == kMaintenance && sv.degraded)) {
      if (reason == kCrash) {
        sv.degraded = false;
        schedule(now_ + kHour, kOutageStart, s);
      }
      return;
    }
    sv.degraded = false;
    sv.down = true;
    sv.down_reason = reason;
    sv.up_at = now_ + duration;
    for (uint32_t fi : sv.features) {
      Feature& f = m_.features[fi];
      for (uint32_t qi : f.queue) {
        QueueEntry q = entries_[qi];
        free_entry(qi);
        if (!q.active) continue;
        emit_dequeued(q, kShutdown);
        set_busy(q.user, fi, false);
        if (rng_.chance(0.6)) {
          schedule(sv.up_at + rng_.between(kMinute, 20 * kMinute), kRetry, q.user, fi, 0);
        }
      }
      f.queue.clear();
      f.active_queued = 0;
    }
    OutEvent e;
    e.type = EventType::kServerDown;
    e.server = s;
    e.reason = reason;
    emit(e);
    for (uint32_t fi : sv.features) {
      Feature& f = m_.features[fi];
      while (!f.open.empty()) {
        const uint32_t si = f.open.back();
        const uint32_t user = sessions_[si].user;
        close_session(si);
        if (rng_.chance(0.8)) {
          schedule(sv.up_at + rng_.between(kMinute, 20 * kMinute), kRetry, user, fi, 0);
        }
      }
    }
    schedule(sv.up_at, kServerUp, s);
  }

  void on_server_up(uint32_t s) {
    Server& sv = m_.servers[s];
    sv.down = false;
    OutEvent e;
    e.type = EventType::kServerUp;
    e.server = s;
    emit(e);
    if (sv.down_reason == kCrash) {
      schedule(now_ + static_cast<int64_t>(rng_.exponential(1.0 / (4.0 * kDay))), kOutageStart, s);
    }
  }

  void emit(OutEvent& e) {
    e.ts = now_;
    if (rng_.chance(0.01)) e.ts_style = static_cast<uint8_t>(1 + rng_.below(6));
    sink_.emit(e);
  }

  Model& m_;
  Disorder& sink_;
  Rng rng_;
  const uint64_t seed_;
  const int64_t start_;
  const int64_t end_;
  int64_t now_ = 0;
  double arrival_clock_ = 0;
  int64_t day_ = INT64_MIN;
  struct AliasSlot {  // user ids, not indexes, to save a lookup
    float prob;
    uint32_t user;
    uint32_t alias;
  };
  std::vector<AliasSlot> alias_;
  double day_total_ = 0;
  uint64_t next_handle_ = 0;
  std::array<double, 1440> profile_{};
  std::array<double, 24> hour_max_{};
  ActionQueue queue_;
  std::vector<Session> sessions_;
  std::vector<uint32_t> free_sessions_;
  std::vector<QueueEntry> entries_;
  std::vector<uint32_t> free_entries_;
};

}  // namespace

uint64_t generate_events(const GeneratorOptions& options,
                         const std::function<void(std::string_view)>& out) {
  Model model = build_model(options);
  LineWriter writer(model, options, out);
  Disorder disorder(writer, options);
  Simulation sim(model, options, disorder);
  sim.run();
  disorder.finish();
  return writer.finish();
}

}  // namespace licflow
