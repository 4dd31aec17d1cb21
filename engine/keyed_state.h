// KeyedState<T>: the per-key state of one keyed operator (SPEC §7 "memory stays under
// state.memory_limit; colder state lives in RocksDB").
//
// Keys are numbered in first-seen order (the operator's emission order; a removed key that comes
// back is a new key with a new number) and found by their encoded bytes (operators/key.h). A
// key's state is hot (in memory) or spilled (its bytes in a SpillTable). An operator removes a
// key whose state is empty again (e.g. a window key whose windows were all dropped), so memory
// follows the live keys, not every key ever seen. Once the hot keys and the index outgrow the
// operator's share of the memory limit, settle() evicts keys by CLOCK (second chance: a key used
// since the hand last passed is kept once more) down to 3/4 of the share, in one batched write;
// at() loads a spilled key back, and prefetch() loads many in one MultiGet, so RocksDB is called
// per batch and per cold key, never per event of a hot key.
//
// What stays in memory per live key, hot or not: an index entry (hash -> number), a slot, and
// what the operator keeps by number (e.g. window timers): about 110 bytes.
//
// State is spilled per key, whole: a single key over half the share stays in memory, over the
// limit if need be (logged once), rather than being written out and read back by every batch.
//
// Memory accounting: a key's footprint (Codec::footprint) is charged when settle() sees it was
// used since the last settle(); between two settle() calls the operator may exceed its share by
// what one batch touches.
//
// Threading: as Operator — one thread at a time.
#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/hash.h"
#include "engine/spill_store.h"
#include "engine/state_codec.h"

namespace licflow {

using KeyId = uint64_t;  // a key's number: first-seen order, never reused

template <typename T>
class KeyedState {
 public:
  // How the operator's per-key state is written, read and weighed.
  struct Codec {
    virtual ~Codec() = default;
    virtual void save(const T& state, StateWriter& out) const = 0;
    // Reads into a default-constructed T; calls in.fail() on nonsense.
    virtual void load(StateReader& in, T& state) const = 0;
    // Bytes of heap and object the state occupies, roughly (allocator overhead included).
    virtual size_t footprint(const T& state) const = 0;
  };

  // How the index hashes an encoded key. An operator that hashes its records' keys without
  // encoding them (operators/key.h) looks keys up by that hash (find_hashed), and gives the
  // function that computes it from the encoded bytes here.
  using IndexHash = uint64_t (*)(std::string_view encoded);

  KeyedState(const Codec& codec, size_t extra_bytes_per_key, IndexHash index_hash = &hash_bytes)
      : codec_(codec), extra_bytes_per_key_(extra_bytes_per_key), index_hash_(index_hash) {}

  // From now on, keep hot keys and the index within `budget` bytes by spilling to `table`.
  // `owner` names the operator in the log.
  void enable_spill(std::unique_ptr<SpillTable> table, uint64_t budget, std::string owner) {
    table_ = std::move(table);
    budget_ = budget;
    owner_ = std::move(owner);
  }

  size_t size() const { return slots_.size(); }
  size_t hot_keys() const { return ring_.size(); }
  bool any_spilled() const { return ring_.size() != slots_.size(); }
  bool contains(KeyId id) const { return slots_.count(id) != 0; }
  KeyId next_id() const { return next_id_; }
  uint64_t hot_bytes() const { return hot_bytes_; }
  // Bytes kept per live key whether hot or spilled.
  uint64_t index_bytes() const {
    return slots_.size() * kSlotBytes + slots_.bucket_count() * sizeof(void*) +
           index_.size() * kIndexEntryBytes + index_.bucket_count() * sizeof(void*) +
           ring_.capacity() * sizeof(KeyId) + slots_.size() * extra_bytes_per_key_;
  }

  // The number of the key `encoded`, or nullopt when it is not live.
  std::optional<KeyId> find(std::string_view encoded) {
    T* state = nullptr;
    return find(encoded, state);
  }
  // The same, also pointing `state` at its state (loaded when spilled; valid as at()'s).
  std::optional<KeyId> find(std::string_view encoded, T*& state) {
    return find_hashed(
        index_hash_(encoded), [&](std::string_view key) { return key == encoded; }, state);
  }
  // The live key whose index hash is `hash` and whose encoded bytes `matches` accepts.
  template <typename Matches>
  std::optional<KeyId> find_hashed(uint64_t hash, const Matches& matches, T*& state) {
    auto [first, last] = index_.equal_range(hash);
    for (auto it = first; it != last; ++it) {
      Hot& h = hot(it->second);
      if (matches(std::string_view(h.encoded))) {
        state = &h.state;
        return it->second;
      }
    }
    return std::nullopt;
  }

  // Appends the numbers of the keys that may be `encoded` (one, unless hashes collide) without
  // loading them: what prefetch() should load before find().
  void candidates(std::string_view encoded, std::vector<KeyId>& ids) const {
    candidates_hashed(index_hash_(encoded), ids);
  }
  void candidates_hashed(uint64_t hash, std::vector<KeyId>& ids) const {
    auto [first, last] = index_.equal_range(hash);
    for (auto it = first; it != last; ++it) ids.push_back(it->second);
  }

  // Adds a key (which find() did not know) with a default state; returns its number.
  KeyId add(std::string encoded) {
    const KeyId id = next_id_++;
    index_.emplace(index_hash_(encoded), id);
    Slot& slot = slots_[id];
    slot.hot = std::make_unique<Hot>();
    slot.hot->encoded = std::move(encoded);
    make_hot(id, slot);
    return id;
  }

  // Forgets a live key and its state.
  void remove(KeyId id) {
    auto it = slots_.find(id);
    Slot& slot = it->second;
    const uint64_t h = index_hash_(hot(id).encoded);
    for (auto [i, last] = index_.equal_range(h); i != last; ++i) {
      if (i->second == id) {
        index_.erase(i);
        break;
      }
    }
    hot_bytes_ -= slot.charged;
    drop_from_ring(slot);
    slots_.erase(it);
    // A spilled copy stays in RocksDB until overwritten or the store is wiped: never read again.
  }

  // The state of key `id`, loaded when spilled. References stay valid until the next settle()
  // or remove() of that key.
  T& at(KeyId id) { return hot(id).state; }

  // Loads the spilled ones among `ids` (live keys) in one read.
  void prefetch(std::span<const KeyId> ids) {
    if (!any_spilled()) return;
    cold_.clear();
    for (KeyId id : ids) {
      if (!slots_.at(id).hot) cold_.push_back(id);
    }
    std::sort(cold_.begin(), cold_.end());
    cold_.erase(std::unique(cold_.begin(), cold_.end()), cold_.end());
    if (cold_.empty()) return;
    table_->get(cold_, values_);
    for (size_t i = 0; i < cold_.size(); ++i) restore(cold_[i], slots_.at(cold_[i]), values_[i]);
  }

  // Charges the keys used since the last call, then evicts if over budget. Call between
  // batches, when the operator holds no reference into the state.
  void settle() {
    for (KeyId id : touched_) {
      auto it = slots_.find(id);
      if (it == slots_.end()) continue;  // removed since
      Slot& slot = it->second;
      slot.touched = false;
      if (!slot.hot) continue;
      const auto now = static_cast<uint32_t>(
          std::min<size_t>(weigh(*slot.hot), std::numeric_limits<uint32_t>::max()));
      hot_bytes_ += now;
      hot_bytes_ -= slot.charged;
      slot.charged = now;
    }
    touched_.clear();
    if (!table_ || hot_bytes_ + index_bytes() <= budget_) return;
    const uint64_t index = index_bytes();
    const uint64_t target = budget_ / 4 * 3 > index ? budget_ / 4 * 3 - index : 0;
    StateWriter out;
    // Hot bytes beyond the oversized keys (below), which stay whatever the others do.
    uint64_t evictable = hot_bytes_;
    oversized_.clear();
    // Two turns of the hand give every key its second chance; only oversized keys are left
    // after that.
    for (size_t visits = 2 * ring_.size(); evictable > target && !ring_.empty() && visits > 0;
         --visits) {
      if (hand_ >= ring_.size()) hand_ = 0;
      const KeyId id = ring_[hand_];
      Slot& slot = slots_.at(id);
      // State is spilled whole, per key: a key over half the share would be written out after
      // every batch that uses it and read back by the next, its whole size each time (quadratic
      // in its size as it grows). It stays in memory, over the limit, and says so.
      if (slot.charged > budget_ / 2) {
        if (std::find(oversized_.begin(), oversized_.end(), id) == oversized_.end()) {
          oversized_.push_back(id);
          evictable -= slot.charged;
          warn_oversized(slot.charged);
        }
        ++hand_;
        continue;
      }
      if (slot.referenced) {
        slot.referenced = false;
        ++hand_;
        continue;
      }
      out = StateWriter();
      encode(*slot.hot, out);
      table_->put(id, out.bytes());
      slot.hot.reset();
      hot_bytes_ -= slot.charged;
      evictable -= slot.charged;
      slot.charged = 0;
      drop_from_ring(slot);
    }
    table_->flush();
  }

  // Checkpoints (SPEC §7): the next number, then every live key in number order with its number
  // and its state as one length-prefixed blob (the bytes it spills as, so spilled keys are
  // copied, not decoded). Each key is a yield point: a streaming writer never holds them all.
  void save(StateWriter& out) const {
    std::vector<KeyId> ids;
    ids.reserve(slots_.size());
    for (const auto& [id, slot] : slots_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    out.u64(next_id_);
    out.u64(ids.size());
    StateWriter scratch;
    std::vector<KeyId> cold;
    std::vector<std::string> values;
    for (size_t begin = 0; begin < ids.size(); begin += kChunk) {
      const size_t end = std::min(begin + kChunk, ids.size());
      cold.clear();
      for (size_t i = begin; i < end; ++i) {
        if (!slots_.at(ids[i]).hot) cold.push_back(ids[i]);
      }
      if (!cold.empty()) table_->get(cold, values);
      size_t next_cold = 0;
      for (size_t i = begin; i < end; ++i) {
        out.u64(ids[i]);
        if (const Hot* h = slots_.at(ids[i]).hot.get()) {
          scratch = StateWriter();
          encode(*h, scratch);
          out.str(scratch.bytes());
        } else {
          out.str(values[next_cold++]);
        }
        out.yield_point();
      }
    }
  }

  // Replaces the state by a saved one; keys beyond the budget go straight back to the spill.
  void load(StateReader& in) {
    slots_.clear();
    index_.clear();
    ring_.clear();
    touched_.clear();
    hot_bytes_ = 0;
    hand_ = 0;
    next_id_ = in.u64();
    const uint64_t n = in.count(16);
    for (uint64_t i = 0; i < n && !in.failed(); ++i) {
      const KeyId id = in.u64();
      const std::string bytes = in.str();
      if (id >= next_id_ || slots_.count(id) != 0) return in.fail();
      Slot& slot = slots_[id];
      if (!restore(id, slot, bytes, /*trusted=*/false)) {
        slots_.erase(id);
        return in.fail();
      }
      index_.emplace(index_hash_(slot.hot->encoded), id);
      if (i % kChunk == kChunk - 1) settle();
    }
    settle();
  }

 private:
  struct Hot {
    std::string encoded;
    T state;
  };
  struct Slot {
    std::unique_ptr<Hot> hot;  // null: spilled
    uint32_t charged = 0;      // bytes of this key in hot_bytes_
    uint32_t ring_at = 0;      // its place in ring_ while hot
    bool referenced = false;   // used since the CLOCK hand last passed
    bool touched = false;      // used since the last settle(): its footprint may have changed
  };
  static constexpr size_t kChunk = 4096;
  // Nodes of the unordered maps (next pointer, key, value, cached nothing) with the allocator's
  // overhead.
  static constexpr size_t kSlotBytes = sizeof(Slot) + sizeof(KeyId) + sizeof(void*) + 16;
  static constexpr size_t kIndexEntryBytes = 32;

  size_t weigh(const Hot& h) const {
    return sizeof(Hot) + 16 + (h.encoded.capacity() > 15 ? h.encoded.capacity() + 16 : 0) +
           codec_.footprint(h.state);
  }

  void encode(const Hot& h, StateWriter& out) const {
    out.str(h.encoded);
    codec_.save(h.state, out);
  }

  void touch(KeyId id, Slot& slot) {
    slot.referenced = true;
    if (!slot.touched) {
      slot.touched = true;
      touched_.push_back(id);
    }
  }

  void make_hot(KeyId id, Slot& slot) {
    slot.ring_at = static_cast<uint32_t>(ring_.size());
    ring_.push_back(id);
    touch(id, slot);
  }

  // Swap-removes a hot slot from the CLOCK ring.
  void drop_from_ring(const Slot& slot) {
    const uint32_t at = slot.ring_at;
    const KeyId moved = ring_.back();
    ring_[at] = moved;
    slots_.at(moved).ring_at = at;
    ring_.pop_back();
  }

  Hot& hot(KeyId id) {
    Slot& slot = slots_.at(id);
    if (!slot.hot) {
      cold_.assign(1, id);
      table_->get(cold_, values_);
      restore(id, slot, values_[0]);
    } else {
      touch(id, slot);
    }
    return *slot.hot;
  }

  void warn_oversized(uint64_t bytes) {
    if (warned_oversized_) return;
    warned_oversized_ = true;
    spdlog::warn(
        "`{}`: the state of one key ({:.1f} MiB) is over half the operator's share of "
        "state.memory_limit ({:.1f} MiB); state is spilled per key, so it stays in memory, and "
        "may take memory beyond the limit (raise memory_limit, or key the state finer)",
        owner_, bytes / 1048576.0, budget_ / 1048576.0);
  }

  // Decodes a key's bytes into its slot and makes it hot. Spilled bytes are our own: nonsense
  // there means the disk lies, which the operator cannot recover from.
  bool restore(KeyId id, Slot& slot, std::string_view bytes, bool trusted = true) {
    StateReader in(bytes);
    auto h = std::make_unique<Hot>();
    h->encoded = in.str();
    codec_.load(in, h->state);
    if (in.failed() || !in.at_end()) {
      if (trusted) {
        throw std::runtime_error("spilled state of key " + std::to_string(id) + " is corrupt");
      }
      return false;
    }
    slot.hot = std::move(h);
    make_hot(id, slot);
    return true;
  }

  const Codec& codec_;
  const size_t extra_bytes_per_key_;
  const IndexHash index_hash_;
  std::unique_ptr<SpillTable> table_;  // null: no spilling
  uint64_t budget_ = 0;
  std::string owner_;
  bool warned_oversized_ = false;
  std::vector<KeyId> oversized_;  // settle()'s scratch: keys too large to spill

  KeyId next_id_ = 0;
  std::unordered_multimap<uint64_t, KeyId> index_;  // index_hash_ of the encoded key -> number
  std::unordered_map<KeyId, Slot> slots_;          // the live keys
  std::vector<KeyId> ring_;                        // the hot keys, in CLOCK order
  size_t hand_ = 0;
  std::vector<KeyId> touched_;
  uint64_t hot_bytes_ = 0;

  // Scratch of reads.
  std::vector<KeyId> cold_;
  std::vector<std::string> values_;
};

}  // namespace licflow
