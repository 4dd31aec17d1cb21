// license_state: SPEC §5 "license_state". Per (server, feature): licenses in use, capacity and
// queue length, from checkouts, checkins, denials, queueing and server events.
//
// - Every input record leaves on `out`, in event-time order, duplicates included; records about a
//   feature carry the state after them: in_use, capacity, available, utilization, queued.
// - checkout opens a checkout of `count` (1 when absent); an open (server, feature, handle) again
//   is a duplicate: counted, otherwise ignored.
// - checkin with `handle` closes that checkout; without, the oldest (ts, arrival) open checkout of
//   the same user and host (missing matches missing), preferring one whose count equals the
//   checkin's `count` when it carries one. Unmatched checkins are counted and change nothing.
// - dup_group (user | host | user_host) counts each holder once, with its largest open count.
// - server_down closes every open checkout of its server (see on_server_down for output order).
// - license_exhausted / license_available are edge-triggered on `available` crossing 0.
// - `sessions` gets one record per closed checkout.
// - Late records are applied at once, and everything they cause is marked "late": true.
// - Per-feature state beyond the operator's share of state.memory_limit is spilled to RocksDB
//   (engine/keyed_state.h); each server's feature list, one name per feature, stays in memory.
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "engine/keyed_state.h"
#include "engine/time_format.h"
#include "engine/time_ordered_operator.h"
#include "operators/partitioned.h"
#include "operators/registry.h"

namespace licflow {
namespace {

constexpr size_t kOut = 0;
constexpr size_t kSessions = 1;
constexpr size_t kAnnotations = 7;  // fields annotate() (and a late flag) may add to a record

enum class DupGroup { kNone, kUser, kHost, kUserHost };

FieldId id_of(const char* name) { return intern_field(name); }

struct Fields {
  FieldId in_use = id_of("in_use");
  FieldId available = id_of("available");
  FieldId utilization = id_of("utilization");
  FieldId queued = id_of("queued");
  FieldId start = id_of("start");
  FieldId end = id_of("end");
  FieldId duration_s = id_of("duration_s");
  FieldId end_reason = id_of("end_reason");
};

const Fields& fields() {
  static const Fields f;
  return f;
}

// Optional string field as a map key: a tag byte keeps "missing" apart from "".
std::string presence_key(const Value* v) {
  if (v == nullptr || !v->is_string()) return std::string(1, '\0');
  return '\1' + v->as_string();
}

Value value_or_null(const Value* v) { return v != nullptr ? *v : Value(); }

// (ts, arrival): the order in which checkouts count as older.
using CheckoutOrder = std::pair<int64_t, uint64_t>;

struct Checkout {
  int64_t count = 1;
  std::optional<std::string> handle;
  std::string user_host;  // presence_key(user) + presence_key(host)
  std::string holder;     // dup_group holder key
  Value user, host, group, project;
};

struct FeatureState {
  std::string server;
  std::string feature;
  DupGroup dup_group = DupGroup::kNone;
  // Exact: `count` is any 64-bit integer >= 1 (SPEC §1), so a sum of them may pass the int64
  // limit; records show it capped there (in_use()), and a checkin takes off exactly what its
  // checkout added.
  __int128 held = 0;
  std::optional<int64_t> capacity;
  int64_t queued = 0;
  bool exhausted = false;
  std::map<CheckoutOrder, Checkout> open;  // oldest first
  std::unordered_map<std::string, CheckoutOrder> by_handle;
  // Checkins without a handle find their checkout by a walk over `open` (oldest first) until
  // those walks have cost more than keeping this index would: then it is built
  // (index_user_host) and kept up to date. Most license servers send handles, a FlexNet log
  // never does, and the index costs a hash lookup and two allocations per checkout. Neither it
  // nor the counters are checkpointed; a loaded state starts without the index.
  std::unordered_map<std::string, std::set<CheckoutOrder>> by_user_host;
  bool user_host_indexed = false;
  uint64_t checkouts_opened = 0;  // since the state was created or loaded
  uint64_t walk_steps = 0;        // checkouts visited by the walks
  std::unordered_map<std::string, std::multiset<int64_t>> holders;  // dup_group only

  // What records show as `in_use`.
  int64_t in_use() const {
    return held > std::numeric_limits<int64_t>::max() ? std::numeric_limits<int64_t>::max()
                                                      : static_cast<int64_t>(held);
  }
  // `held` from the open checkouts (a checkpoint keeps only its capped value).
  __int128 held_by_open() const {
    __int128 sum = 0;
    if (dup_group == DupGroup::kNone) {
      for (const auto& [order, c] : open) sum += c.count;
    } else {
      for (const auto& [holder, counts] : holders) sum += *counts.rbegin();
    }
    return sum;
  }
};

// server -> the names of its features, in the order server_down closes them.
using ServerFeatures = std::unordered_map<std::string, std::set<std::string>>;

constexpr size_t kAllocation = 16;  // the allocator's overhead per block

// Heap bytes of a string that outgrew its inline buffer.
size_t string_heap(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + kAllocation : 0;
}

// How a (server, feature) state is checkpointed and spilled, and weighed against
// state.memory_limit: its counters and open checkouts, oldest first. The handle, user/host and
// dup_group indexes are rebuilt from the checkouts on load.
class FeatureStateCodec final : public KeyedState<FeatureState>::Codec {
 public:
  // `next_arrival`: the operator's next arrival number, which every checkout's is below.
  explicit FeatureStateCodec(const uint64_t& next_arrival) : next_arrival_(next_arrival) {}

  // While a checkpoint loads, each loaded state's feature goes into `loaded`, where its server's
  // feature list is rebuilt (a feature saved twice is refused); nullptr stops it.
  void collect(ServerFeatures* loaded) { loaded_ = loaded; }

  void save(const FeatureState& s, StateWriter& out) const override {
    out.str(s.server);
    out.str(s.feature);
    out.u8(static_cast<uint8_t>(s.dup_group));
    out.i64(s.in_use());
    out.boolean(s.capacity.has_value());
    out.i64(s.capacity.value_or(0));
    out.i64(s.queued);
    out.boolean(s.exhausted);
    out.u64(s.open.size());
    for (const auto& [order, c] : s.open) {
      out.i64(order.first);
      out.u64(order.second);
      out.i64(c.count);
      out.boolean(c.handle.has_value());
      out.str(c.handle.value_or(""));
      out.str(c.user_host);
      out.str(c.holder);
      for (const Value* v : {&c.user, &c.host, &c.group, &c.project}) out.value(*v);
    }
  }

  void load(StateReader& in, FeatureState& s) const override {
    s.server = in.str();
    s.feature = in.str();
    if (loaded_ != nullptr && !(*loaded_)[s.server].insert(s.feature).second) return in.fail();
    const uint8_t dup_group = in.u8();
    if (dup_group > static_cast<uint8_t>(DupGroup::kUserHost)) return in.fail();
    s.dup_group = static_cast<DupGroup>(dup_group);
    const int64_t in_use = in.i64();
    const bool has_capacity = in.boolean();
    const int64_t capacity = in.i64();
    if (has_capacity) s.capacity = capacity;
    s.queued = in.i64();
    s.exhausted = in.boolean();
    for (uint64_t m = in.count(48); m > 0 && !in.failed(); --m) {
      CheckoutOrder order{in.i64(), in.u64()};
      Checkout c;
      c.count = in.i64();
      const bool has_handle = in.boolean();
      std::string handle = in.str();
      if (has_handle) c.handle = std::move(handle);
      c.user_host = in.str();
      c.holder = in.str();
      for (Value* v : {&c.user, &c.host, &c.group, &c.project}) *v = in.value();
      if (order.second >= next_arrival_ || s.open.count(order) > 0) return in.fail();
      if (c.handle && !s.by_handle.emplace(*c.handle, order).second) return in.fail();
      if (s.dup_group != DupGroup::kNone) s.holders[c.holder].insert(c.count);
      s.open.emplace(order, std::move(c));
    }
    s.held = s.held_by_open();
    if (!in.failed() && s.in_use() != in_use) return in.fail();
  }

  // O(1), since it runs for every state a batch touches: libstdc++'s nodes (a tree node has three
  // links and a colour, a hash node a link and the key's cached hash) with a checkout's typical
  // strings, rather than a walk over thousands of open checkouts.
  size_t footprint(const FeatureState& s) const override {
    constexpr size_t kTreeNode = 4 * sizeof(void*) + kAllocation;
    constexpr size_t kHashNode = 2 * sizeof(void*) + kAllocation;
    constexpr size_t kStrings = 96;  // user_host, holder, handle twice, beyond inline buffers
    constexpr size_t kPerCheckout = kTreeNode + sizeof(std::pair<const CheckoutOrder, Checkout>) +
                                    kHashNode + sizeof(std::pair<const std::string, CheckoutOrder>) +
                                    kTreeNode + sizeof(CheckoutOrder) + kStrings;
    constexpr size_t kPerHolder =
        kHashNode + sizeof(std::pair<const std::string, std::multiset<int64_t>>) + 32;
    constexpr size_t kPerUserHost =
        kHashNode + sizeof(std::pair<const std::string, std::set<CheckoutOrder>>) + 32;
    return sizeof(FeatureState) + string_heap(s.server) + string_heap(s.feature) +
           (s.by_handle.bucket_count() + s.by_user_host.bucket_count() + s.holders.bucket_count()) *
               sizeof(void*) +
           s.open.size() * kPerCheckout + s.by_user_host.size() * kPerUserHost +
           s.holders.size() * kPerHolder;
  }

 private:
  const uint64_t& next_arrival_;
  ServerFeatures* loaded_ = nullptr;
};

class LicenseState final : public TimeOrderedOperator {
 public:
  LicenseState(const PipelineSettings& settings, size_t input_count)
      : TimeOrderedOperator({"out", "sessions"}, input_count) {
    for (const auto& [name, info] : settings.features) {
      if (info.capacity) inventory_capacity_[name] = *info.capacity;
      if (info.dup_group == "user") dup_groups_[name] = DupGroup::kUser;
      if (info.dup_group == "host") dup_groups_[name] = DupGroup::kHost;
      if (info.dup_group == "user_host") dup_groups_[name] = DupGroup::kUserHost;
    }
  }

  uint64_t duplicates() const { return duplicates_; }
  uint64_t unmatched_checkins() const { return unmatched_; }

  const char* spill_kind() const override { return "license_state"; }
  Status enable_spill(SpillStore& store, const std::string& owner,
                      uint64_t budget_bytes) override {
    auto table = store.table(spill_kind(), owner);
    if (!table.is_ok()) return table.status();
    states_.enable_spill(std::move(table.value()), budget_bytes, owner);
    return Status::ok();
  }

  // Checkpoints (SPEC §7): the counters, then every (server, feature) state with its open
  // checkouts, oldest first (FeatureStateCodec), in first-seen order. The handle, user/host and
  // dup_group indexes and each server's feature list are rebuilt from them; output never depends
  // on the order of the unordered maps.
  void save_operator_state(StateWriter& out) const override {
    out.u64(next_arrival_);
    out.u64(duplicates_);
    out.u64(unmatched_);
    states_.save(out);
  }

  void load_operator_state(StateReader& in) override {
    next_arrival_ = in.u64();
    duplicates_ = in.u64();
    unmatched_ = in.u64();
    server_features_.clear();
    {
      Collecting collecting(codec_, server_features_);
      states_.load(in);
    }
    if (!in.failed() && !keys_match_states()) in.fail();
    publish();
  }

 private:
  // Points the codec at the server lists while a checkpoint loads, and away again however the
  // load ends: the spilled keys loaded later are no new features.
  struct Collecting {
    Collecting(FeatureStateCodec& codec, ServerFeatures& into) : codec(codec) {
      codec.collect(&into);
    }
    ~Collecting() { codec.collect(nullptr); }
    FeatureStateCodec& codec;
  };

  // A checkpoint's keys are the bytes of its states' (server, feature): one differing would be
  // found under the wrong name. Checked by hash, without loading the spilled states back.
  bool keys_match_states() {
    for (const auto& [server, features] : server_features_) {
      for (const std::string& feature : features) {
        batch_keys_.clear();
        states_.candidates(key_of(server, feature), batch_keys_);
        if (batch_keys_.empty()) return false;
      }
    }
    return true;
  }

  // Loads the batch's spilled states in one read before its records are processed: the records'
  // features, and every feature of a server going down.
  void before_batch(const SelectedRecords& records) override {
    if (!states_.any_spilled()) return;
    batch_keys_.clear();
    for (const Record& r : records) {
      const Value* server = r.find(field::kServer);
      const Value* feature = r.find(field::kFeature);
      if (string_or_empty(r.find(field::kType)) == "server_down") {
        auto features = server_features_.find(string_or_empty(server));
        if (features == server_features_.end()) continue;
        for (const std::string& name : features->second) {
          states_.candidates(key_of(features->first, name), batch_keys_);
        }
      } else if (feature != nullptr && feature->is_string() && server != nullptr &&
                 server->is_string()) {
        states_.candidates(key_of(server->as_string(), feature->as_string()), batch_keys_);
      }
    }
    states_.prefetch(batch_keys_);
  }

  void after_batch() override {
    states_.settle();
    publish();
  }

  void publish() {
    publish_footprint(
        {states_.size(), states_.hot_keys(), states_.hot_bytes() + states_.index_bytes()});
  }

  size_t fields_added() const override { return kAnnotations; }

  void on_record(const Record& r) override { apply(r, false); }
  // A record of its own is annotated in place and passed on, not copied.
  void on_owned_record(Record&& r) override { apply(r, false, &r); }
  void on_late(const Record& r) override {
    count_late();
    apply(r, true);
  }

  // `owned`: `r` itself when the operator may take it; it is read, then moved out last.
  void apply(const Record& r, bool late, Record* owned = nullptr) {
    late_ = late;
    uint64_t arrival = next_arrival_++;
    const std::string& t = string_or_empty(r.find(field::kType));
    const Value* server = r.find(field::kServer);
    const Value* feature = r.find(field::kFeature);
    if (t == "server_down") {
      on_server_down(r, string_or_empty(server));
      return;
    }
    if (feature == nullptr || !feature->is_string() || server == nullptr || !server->is_string()) {
      out(kOut, owned != nullptr ? std::move(*owned) : Record(r));  // passes unannotated
      return;
    }
    FeatureState& s = state_for(server->as_string(), feature->as_string());
    if (const Value* cap = r.find(field::kCapacity); cap != nullptr && cap->is_int()) {
      s.capacity = cap->as_int();  // latest wins, a late record's too
    }
    std::optional<Record> session;
    if (t == "checkout") {
      open_checkout(s, r, arrival);
    } else if (t == "checkin") {
      session = close_for_checkin(s, r);
    } else if (t == "queued") {
      ++s.queued;
    } else if (t == "dequeued") {
      s.queued = std::max<int64_t>(0, s.queued - 1);
    }
    const int64_t ts = r.ts;
    Record annotated = owned != nullptr ? std::move(*owned) : Record(r, kAnnotations);
    annotated.reserve(annotated.fields().size() + kAnnotations);
    annotate(annotated, s);
    out(kOut, std::move(annotated));
    if (session) out(kSessions, std::move(*session));
    check_edges(s, ts);
  }

  const std::string& string_or_empty(const Value* v) const {
    return v != nullptr && v->is_string() ? v->as_string() : empty_;
  }

  // The key of a (server, feature) state: server '\0' feature, in a scratch string.
  const std::string& key_of(const std::string& server, const std::string& feature) {
    key_.assign(server).push_back('\0');
    key_.append(feature);
    return key_;
  }

  // The state of (server, feature), created on first sight. Features are never forgotten: their
  // capacity, queue and exhaustion outlive their checkouts.
  FeatureState& state_for(const std::string& server, const std::string& feature) {
    const std::string& key = key_of(server, feature);
    if (std::optional<KeyId> id = states_.find(key)) return states_.at(*id);
    FeatureState& s = states_.at(states_.add(key));
    s.server = server;
    s.feature = feature;
    if (auto c = inventory_capacity_.find(feature); c != inventory_capacity_.end()) {
      s.capacity = c->second;
    }
    if (auto g = dup_groups_.find(feature); g != dup_groups_.end()) s.dup_group = g->second;
    server_features_[server].insert(feature);
    return s;
  }

  void open_checkout(FeatureState& s, const Record& r, uint64_t arrival) {
    Checkout c;
    if (const Value* h = r.find(field::kHandle); h != nullptr && h->is_string()) {
      if (s.by_handle.count(h->as_string()) > 0) {
        ++duplicates_;
        count_dropped(1);  // the run summary's "skipped", licflow_operator_dropped_records_total
        return;
      }
      c.handle = h->as_string();
    }
    if (const Value* n = r.find(field::kCount); n != nullptr && n->is_int()) c.count = n->as_int();
    const Value* user = r.find(field::kUser);
    const Value* host = r.find(field::kHost);
    c.user_host = presence_key(user) + presence_key(host);
    c.user = value_or_null(user);
    c.host = value_or_null(host);
    c.group = value_or_null(r.find(field::kGroup));
    c.project = value_or_null(r.find(field::kProject));
    switch (s.dup_group) {
      case DupGroup::kNone:
        break;
      case DupGroup::kUser:
        c.holder = presence_key(user);
        break;
      case DupGroup::kHost:
        c.holder = presence_key(host);
        break;
      case DupGroup::kUserHost:
        c.holder = c.user_host;
        break;
    }
    CheckoutOrder order{r.ts, arrival};
    if (c.handle) s.by_handle.emplace(*c.handle, order);
    if (s.user_host_indexed) s.by_user_host[c.user_host].insert(order);
    ++s.checkouts_opened;
    add_to_in_use(s, c, +1);
    s.open.emplace(order, std::move(c));
  }

  // Adds (sign +1) or removes (-1) a checkout's contribution to in_use.
  void add_to_in_use(FeatureState& s, const Checkout& c, int sign) {
    if (s.dup_group == DupGroup::kNone) {
      s.held += sign * static_cast<__int128>(c.count);
    } else {
      std::multiset<int64_t>& counts = s.holders[c.holder];
      int64_t before = counts.empty() ? 0 : *counts.rbegin();
      if (sign > 0) {
        counts.insert(c.count);
      } else {
        counts.erase(counts.find(c.count));
      }
      int64_t after = counts.empty() ? 0 : *counts.rbegin();
      if (counts.empty()) s.holders.erase(c.holder);
      s.held += static_cast<__int128>(after) - before;
    }
  }

  std::optional<Record> close_for_checkin(FeatureState& s, const Record& r) {
    std::optional<CheckoutOrder> target;
    if (const Value* h = r.find(field::kHandle); h != nullptr && h->is_string()) {
      if (auto it = s.by_handle.find(h->as_string()); it != s.by_handle.end()) target = it->second;
    } else {
      std::string uh = presence_key(r.find(field::kUser));
      uh += presence_key(r.find(field::kHost));
      std::optional<int64_t> count;
      if (const Value* n = r.find(field::kCount); n != nullptr && n->is_int()) count = n->as_int();
      target = s.user_host_indexed ? oldest_indexed(s, uh, count) : oldest_by_walk(s, uh, count);
    }
    if (!target) {
      ++unmatched_;
      count_dropped(1);
      return std::nullopt;
    }
    const Value* reason = r.find(field::kReason);
    return close(s, *target, r.ts,
                 reason != nullptr && reason->is_string() ? reason->as_string() : "checkin");
  }

  // The oldest open checkout of `uh` (user and host), preferring one of `count`.
  std::optional<CheckoutOrder> oldest_indexed(const FeatureState& s, const std::string& uh,
                                              std::optional<int64_t> count) {
    auto it = s.by_user_host.find(uh);
    if (it == s.by_user_host.end() || it->second.empty()) return std::nullopt;
    if (count) {
      for (const CheckoutOrder& o : it->second) {
        if (s.open.at(o).count == *count) return o;
      }
    }
    return *it->second.begin();
  }

  // The same, found by walking the open checkouts; builds the index once the walks have visited
  // more checkouts than kWalkStepsPerCheckout per checkout opened (see FeatureState).
  std::optional<CheckoutOrder> oldest_by_walk(FeatureState& s, const std::string& uh,
                                              std::optional<int64_t> count) {
    constexpr uint64_t kWalkStepsPerCheckout = 16;
    std::optional<CheckoutOrder> oldest;
    std::optional<CheckoutOrder> found;
    for (const auto& [order, c] : s.open) {
      ++s.walk_steps;
      if (c.user_host != uh) continue;
      if (!oldest) oldest = order;
      if (!count || c.count == *count) {
        found = order;
        break;
      }
    }
    if (s.walk_steps > kWalkStepsPerCheckout * s.checkouts_opened + 1024) index_user_host(s);
    return found ? found : oldest;
  }

  void index_user_host(FeatureState& s) {
    if (s.user_host_indexed) return;
    for (const auto& [order, c] : s.open) s.by_user_host[c.user_host].insert(order);
    s.user_host_indexed = true;
  }

  // Closes one open checkout and returns its session record; none when nothing reads `sessions`.
  std::optional<Record> close(FeatureState& s, CheckoutOrder order, int64_t end,
                              const std::string& reason) {
    auto it = s.open.find(order);
    Checkout c = std::move(it->second);
    s.open.erase(it);
    if (c.handle) s.by_handle.erase(*c.handle);
    if (s.user_host_indexed) {
      auto uh = s.by_user_host.find(c.user_host);
      uh->second.erase(order);
      if (uh->second.empty()) s.by_user_host.erase(uh);
    }
    add_to_in_use(s, c, -1);
    if (!port_consumed(kSessions)) return std::nullopt;

    const Fields& f = fields();
    Record session;
    session.ts = end;
    session.reserve(14);
    session.append(field::kType, Value("session"));
    session.append(field::kServer, Value(s.server));
    session.append(field::kFeature, Value(s.feature));
    session.append(field::kUser, std::move(c.user));
    session.append(field::kHost, std::move(c.host));
    session.append(field::kGroup, std::move(c.group));
    session.append(field::kProject, std::move(c.project));
    session.append(field::kCount, Value(c.count));
    session.append(f.start, Value(format_rfc3339(order.first)));
    session.append(f.end, Value(format_rfc3339(end)));
    session.append(f.duration_s, Value(static_cast<double>(end - order.first) / 1000.0));
    session.append(f.end_reason, Value(reason));
    return session;
  }

  // Output: the event itself unannotated; then per feature of the server that had licenses in
  // use, in feature-name order: a copy of the event with that feature and the state after the
  // close, the feature's sessions, and its license_available if any.
  void on_server_down(const Record& r, const std::string& server) {
    out(kOut, Record(r));
    auto features = server_features_.find(server);
    if (features == server_features_.end()) return;
    for (const std::string& feature : features->second) {
      FeatureState& s = state_for(server, feature);
      if (s.held <= 0) continue;
      std::vector<Record> sessions;
      while (!s.open.empty()) {
        auto session = close(s, s.open.begin()->first, r.ts, "server_down");
        if (session) sessions.push_back(std::move(*session));
      }
      s.held = 0;
      Record copy(r, kAnnotations);
      copy.set(field::kFeature, Value(feature));
      annotate(copy, s);
      out(kOut, std::move(copy));
      for (Record& session : sessions) out(kSessions, std::move(session));
      check_edges(s, r.ts);
    }
  }

  void annotate(Record& r, const FeatureState& s) {
    const Fields& f = fields();
    r.set(f.in_use, Value(s.in_use()));
    if (s.capacity) {
      r.set(field::kCapacity, Value(*s.capacity));
      r.set(f.available, Value(*s.capacity - s.in_use()));
      r.set(f.utilization, *s.capacity == 0 ? Value() : Value(static_cast<double>(s.in_use()) /
                                                              static_cast<double>(*s.capacity)));
    } else {
      r.set(field::kCapacity, Value());
      r.set(f.available, Value());
      r.set(f.utilization, Value());
    }
    r.set(f.queued, Value(s.queued));
  }

  void check_edges(FeatureState& s, int64_t ts) {
    if (!s.capacity) return;
    int64_t available = *s.capacity - s.in_use();
    const char* type = nullptr;
    if (available <= 0 && !s.exhausted) {
      s.exhausted = true;
      type = "license_exhausted";
    } else if (available > 0 && s.exhausted) {
      s.exhausted = false;
      type = "license_available";
    }
    if (type == nullptr) return;
    Record edge;
    edge.ts = ts;
    edge.reserve(10);
    edge.append(field::kType, Value(type));
    edge.append(field::kServer, Value(s.server));
    edge.append(field::kFeature, Value(s.feature));
    annotate(edge, s);
    out(kOut, std::move(edge));
  }

  void out(size_t port, Record r) {
    if (late_) r.set(field::kLate, Value(true));
    emit(port, std::move(r));
  }

  std::unordered_map<std::string, int64_t> inventory_capacity_;
  std::unordered_map<std::string, DupGroup> dup_groups_;
  uint64_t next_arrival_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t unmatched_ = 0;
  FeatureStateCodec codec_{next_arrival_};
  // By server '\0' feature, in first-seen order; spilled beyond memory_limit. Each key also
  // holds a name in server_features_: a set node of about 80 bytes.
  KeyedState<FeatureState> states_{codec_, 80};
  ServerFeatures server_features_;
  std::string key_;
  const std::string empty_;
  bool late_ = false;              // the record being applied is late
  std::vector<KeyId> batch_keys_;  // the keys of the batch being prefetched
};

}  // namespace

// Partitioned by server: everything a record touches — its feature's state, or, for server_down,
// every feature of its server — lives in its server's partition.
std::unique_ptr<Operator> make_license_state(NodeConfig& config) {
  if (config.failed()) return nullptr;
  std::vector<std::unique_ptr<TimeOrderedOperator>> parts;
  for (size_t k = 0; k < PartitionedOperator::kPartitions; ++k) {
    parts.push_back(std::make_unique<LicenseState>(config.settings(), config.input_count()));
  }
  return std::make_unique<PartitionedOperator>(std::move(parts), KeyFields({"server"}));
}

}  // namespace licflow
