// SPDX-License-Identifier: Apache-2.0
// KvWriteBatch and the in-memory KvStore.
#include "state/kv_store.hpp"

#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace pel::state {

namespace {

void put_len(Bytes& out, size_t n) {
    PEL_ASSERT(n <= 0xffffffffU, "KvWriteBatch: key or value over 4 GiB");
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
}

std::string to_key(ByteView v) {
    return {reinterpret_cast<const char*>(v.data()), v.size()};  // NOLINT
}

Bytes to_bytes(const std::string& s) { return {s.begin(), s.end()}; }

using Map = std::map<std::string, std::string>;

// Copy-on-write: readers and snapshots hold a shared_ptr to an immutable map; write() builds a new
// map and swaps the pointer under the mutex. Simple and obviously consistent; O(size) per write.
class MemSnapshot final : public KvSnapshot {
  public:
    explicit MemSnapshot(std::shared_ptr<const Map> map) : map_(std::move(map)) {}
    Result<std::optional<Bytes>> get(ByteView key) const override {
        const auto it = map_->find(to_key(key));
        if (it == map_->end()) return std::optional<Bytes>{};
        return std::optional<Bytes>{to_bytes(it->second)};
    }

  private:
    std::shared_ptr<const Map> map_;
};

class MemKvStore final : public KvStore {
  public:
    Result<std::optional<Bytes>> get(ByteView key) const override {
        return MemSnapshot(current()).get(key);
    }

    Result<void> write(const KvWriteBatch& batch, bool /*sync*/) override {
        auto next = std::make_shared<Map>(*current());
        batch.for_each([&](KvWriteBatch::Op op, ByteView key, ByteView value) {
            if (op == KvWriteBatch::Op::kPut) {
                (*next)[to_key(key)] = to_key(value);
            } else {
                next->erase(to_key(key));
            }
        });
        const std::lock_guard lock(mu_);
        map_ = std::move(next);
        return {};
    }

    std::shared_ptr<const KvSnapshot> snapshot() const override {
        return std::make_shared<MemSnapshot>(current());
    }

    Result<void> for_each_prefix(ByteView prefix,
                                 const std::function<bool(ByteView, ByteView)>& fn) const override {
        const auto map = current();
        const std::string p = to_key(prefix);
        for (auto it = map->lower_bound(p); it != map->end() && it->first.starts_with(p); ++it) {
            if (!fn(as_bytes(it->first), as_bytes(it->second))) break;
        }
        return {};
    }

  private:
    std::shared_ptr<const Map> current() const {
        const std::lock_guard lock(mu_);
        return map_;
    }

    mutable std::mutex mu_;
    std::shared_ptr<const Map> map_ = std::make_shared<const Map>();
};

}  // namespace

void KvWriteBatch::append_record(Op op, ByteView key, ByteView value) {
    rep_.push_back(static_cast<uint8_t>(op));
    put_len(rep_, key.size());
    put_len(rep_, value.size());
    pel::append(rep_, key);
    pel::append(rep_, value);
    ++count_;
}

void KvWriteBatch::put(ByteView key, ByteView value) { append_record(Op::kPut, key, value); }

void KvWriteBatch::del(ByteView key) { append_record(Op::kDelete, key, {}); }

std::shared_ptr<KvStore> make_mem_kv_store() { return std::make_shared<MemKvStore>(); }

Result<void> KvStore::write_parts(std::span<const KvWriteBatch* const> parts, bool sync) {
    KvWriteBatch all;
    for (const KvWriteBatch* b : parts) all.append(*b);
    return write(all, sync);
}

}  // namespace pel::state
