// KeyedState<T>: the per-key state of one keyed operator (SPEC §7 "memory stays under
// state.memory_limit; colder state lives in RocksDB").
//
// Keys are numbered in first-seen order (the operator's emission order) and found by their
// encoded bytes (operators/key.h). A key's state is hot (in memory) or spilled (its bytes in a
// SpillTable). Once the hot keys and the index outgrow the operator's share of the memory limit,
// settle() evicts keys by CLOCK (second chance: a key used since the hand last passed is kept
// once more) down to 3/4 of the share, in one batched write; at() loads a spilled key back, and
// prefetch() loads many in one MultiGet, so RocksDB is called per batch and per cold key, never
// per event of a hot key.
//
// What stays in memory per key, hot or not: a 64-bit hash in the index, a 16-byte slot, and what
// the operator keeps by id (e.g. window timers): about 70 bytes.
//
// Memory accounting: a key's footprint (Codec::footprint) is charged when settle() sees it was
// used since the last settle(); between two settle() calls the operator may exceed its share by
// what one batch touches.
//
// Threading: as Operator — one thread at a time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/spill_store.h"
#include "engine/state_codec.h"

namespace licflow {

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

  KeyedState(const Codec& codec, size_t extra_bytes_per_key)
      : codec_(codec), extra_bytes_per_key_(extra_bytes_per_key) {}

  // From now on, keep hot keys and the index within `budget` bytes by spilling to `table`.
  void enable_spill(std::unique_ptr<SpillTable> table, uint64_t budget) {
    table_ = std::move(table);
    budget_ = budget;
  }

  size_t size() const { return slots_.size(); }
  size_t hot_keys() const { return ring_.size(); }
  uint64_t hot_bytes() const { return hot_bytes_; }
  // Bytes kept per key whether hot or spilled.
  uint64_t index_bytes() const {
    return slots_.capacity() * sizeof(Slot) + ring_.capacity() * sizeof(uint32_t) +
           index_.size() * kIndexEntryBytes + index_.bucket_count() * sizeof(void*) +
           slots_.size() * extra_bytes_per_key_;
  }
  const SpillTable* spill_table() const { return table_.get(); }

  // The number of the key `encoded`, or nullopt when it was never added.
  std::optional<uint32_t> find(std::string_view encoded) {
    auto [first, last] = index_.equal_range(hash(encoded));
    for (auto it = first; it != last; ++it) {
      if (hot(it->second).encoded == encoded) return it->second;
    }
    return std::nullopt;
  }

  // Appends the numbers of the keys that may be `encoded` (one, unless hashes collide) without
  // loading them: what prefetch() should load before find().
  void candidates(std::string_view encoded, std::vector<uint32_t>& ids) const {
    auto [first, last] = index_.equal_range(hash(encoded));
    for (auto it = first; it != last; ++it) ids.push_back(it->second);
  }
  bool any_spilled() const { return ring_.size() != slots_.size(); }

  // Adds a key (which find() did not know) with a default state; returns its number.
  uint32_t add(std::string encoded) {
    const auto id = static_cast<uint32_t>(slots_.size());
    index_.emplace(hash(encoded), id);
    Slot& slot = slots_.emplace_back();
    slot.hot = std::make_unique<Hot>();
    slot.hot->encoded = std::move(encoded);
    ring_.push_back(id);
    touch(id);
    return id;
  }

  // The state of key `id`, loaded when spilled. References stay valid until the next settle().
  T& at(uint32_t id) { return hot(id).state; }
  const std::string& encoded(uint32_t id) { return hot(id).encoded; }

  // Loads the spilled ones among `ids` in one read.
  void prefetch(std::span<const uint32_t> ids) {
    if (!any_spilled()) return;
    cold_.clear();
    for (uint32_t id : ids) {
      if (!slots_[id].hot && (cold_.empty() || cold_.back() != id)) cold_.push_back(id);
    }
    std::sort(cold_.begin(), cold_.end());
    cold_.erase(std::unique(cold_.begin(), cold_.end()), cold_.end());
    if (cold_.empty()) return;
    table_->get(cold_, values_);
    for (size_t i = 0; i < cold_.size(); ++i) restore(cold_[i], values_[i]);
  }

  // Charges the keys used since the last call, then evicts if over budget. Call between
  // batches, when the operator holds no reference into the state.
  void settle() {
    for (uint32_t id : touched_) {
      Slot& slot = slots_[id];
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
    while (hot_bytes_ > target && !ring_.empty()) {
      if (hand_ >= ring_.size()) hand_ = 0;
      const uint32_t id = ring_[hand_];
      Slot& slot = slots_[id];
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
      slot.charged = 0;
      ring_[hand_] = ring_.back();
      ring_.pop_back();
    }
    table_->flush();
  }

  // Checkpoints (SPEC §7): every key in number order as one length-prefixed blob (the bytes it
  // spills as, so spilled keys are copied, not decoded).
  void save(StateWriter& out) const {
    out.u64(slots_.size());
    StateWriter scratch;
    std::vector<uint32_t> cold;
    std::vector<std::string> values;
    for (uint32_t begin = 0; begin < slots_.size(); begin += kChunk) {
      const auto end = static_cast<uint32_t>(std::min<size_t>(begin + kChunk, slots_.size()));
      cold.clear();
      for (uint32_t id = begin; id < end; ++id) {
        if (!slots_[id].hot) cold.push_back(id);
      }
      if (!cold.empty()) table_->get(cold, values);
      size_t next_cold = 0;
      for (uint32_t id = begin; id < end; ++id) {
        if (const Hot* h = slots_[id].hot.get()) {
          scratch = StateWriter();
          encode(*h, scratch);
          out.str(scratch.bytes());
        } else {
          out.str(values[next_cold++]);
        }
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
    const uint64_t n = in.count(8);
    for (uint64_t id = 0; id < n && !in.failed(); ++id) {
      slots_.emplace_back();
      const std::string bytes = in.str();
      if (!restore(static_cast<uint32_t>(id), bytes, /*trusted=*/false)) return in.fail();
      index_.emplace(hash(slots_[id].hot->encoded), static_cast<uint32_t>(id));
      if (id % kChunk == kChunk - 1) settle();
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
    bool referenced = false;   // used since the CLOCK hand last passed
    bool touched = false;      // used since the last settle(): its footprint may have changed
  };
  static constexpr uint32_t kChunk = 4096;
  // An unordered_multimap<uint64_t, uint32_t> node with the allocator's overhead.
  static constexpr size_t kIndexEntryBytes = 32;

  static uint64_t hash(std::string_view encoded) { return std::hash<std::string_view>{}(encoded); }

  size_t weigh(const Hot& h) const {
    return sizeof(Hot) + 16 + (h.encoded.capacity() > 15 ? h.encoded.capacity() + 16 : 0) +
           codec_.footprint(h.state);
  }

  void encode(const Hot& h, StateWriter& out) const {
    out.str(h.encoded);
    codec_.save(h.state, out);
  }

  void touch(uint32_t id) {
    Slot& slot = slots_[id];
    slot.referenced = true;
    if (!slot.touched) {
      slot.touched = true;
      touched_.push_back(id);
    }
  }

  Hot& hot(uint32_t id) {
    if (!slots_[id].hot) {
      cold_.assign(1, id);
      table_->get(cold_, values_);
      restore(id, values_[0]);
    }
    touch(id);
    return *slots_[id].hot;
  }

  // Decodes a key's bytes into its slot. Spilled bytes are our own: nonsense there means the
  // disk lies, which the operator cannot recover from.
  bool restore(uint32_t id, std::string_view bytes, bool trusted = true) {
    StateReader in(bytes);
    auto h = std::make_unique<Hot>();
    h->encoded = in.str();
    codec_.load(in, h->state);
    if (in.failed() || !in.at_end()) {
      if (trusted) throw std::runtime_error("spilled state of key " + std::to_string(id) + " is corrupt");
      return false;
    }
    slots_[id].hot = std::move(h);
    ring_.push_back(id);
    touch(id);
    return true;
  }

  const Codec& codec_;
  const size_t extra_bytes_per_key_;
  std::unique_ptr<SpillTable> table_;  // null: no spilling
  uint64_t budget_ = 0;

  std::unordered_multimap<uint64_t, uint32_t> index_;  // hash of the encoded key -> number
  std::vector<Slot> slots_;                            // by number
  std::vector<uint32_t> ring_;                         // the hot keys, in CLOCK order
  size_t hand_ = 0;
  std::vector<uint32_t> touched_;
  uint64_t hot_bytes_ = 0;

  // Scratch of reads.
  std::vector<uint32_t> cold_;
  std::vector<std::string> values_;
};

}  // namespace licflow
