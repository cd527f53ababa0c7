// SPDX-License-Identifier: Apache-2.0
// StateStore: flat state and path-keyed tries over a KvStore. See state_view.hpp for the contract
// and the consistency argument, state/internal/path_trie.hpp for the trie layout.
//
// Key layout (one-byte prefixes; addresses, slots and hashes fixed-size, so prefixes never nest):
//   "F"                      format record: "pel-state/" + decimal kFormatVersion
//   "H"                      head: has-block flag (1) | block_num (8, BE) | state root (32)
//   "a" addr                 account: RLP(nonce, balance, storage root, code hash), or
//                            RLP(nonce, balance) without storage and code (encode_stored_account)
//   "s" addr slot(32, BE)    storage value: minimal big-endian bytes (zero is never stored)
//   "c" code_hash            code bytes (never deleted: content addressed and shared)
//   "t" depth path           state trie node at that nibble path (depth = its length, one byte;
//                            one nibble per byte): see state/internal/path_trie.hpp
//   "u" addr depth path      storage trie node of `addr`; none for a small storage trie, which
//                            is rebuilt from the account's "s" records (StateStoreOptions::
//                            small_storage_trie_slots)
//   "x" ...                  auxiliary records of the store's user (the node's blocks, receipts,
//                            indexes), written in the same batch as a commit (commit(.., aux))
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "state/internal/parallel.hpp"
#include "state/internal/path_trie.hpp"
#include "state/internal/sharded_cache.hpp"
#include "state/kv_store.hpp"
#include "state/state_view.hpp"

namespace pel::state {

namespace {

constexpr uint8_t kFormatPrefix = 'F';
constexpr uint8_t kHeadPrefix = 'H';
constexpr uint8_t kAccountPrefix = 'a';
constexpr uint8_t kStoragePrefix = 's';
constexpr uint8_t kCodePrefix = 'c';
constexpr uint8_t kStateTriePrefix = 't';
constexpr uint8_t kStorageTriePrefix = 'u';
static_assert(StateStore::kAuxPrefix == 'x');
constexpr size_t kHeadSize = 41;

std::string format_record() { return "pel-state/" + std::to_string(StateStore::kFormatVersion); }

Bytes key1(uint8_t prefix) { return Bytes{prefix}; }

Bytes addr_key(uint8_t prefix, const Address& a) {
    Bytes k(1 + 20);
    k[0] = prefix;
    std::copy(a.bytes.begin(), a.bytes.end(), k.begin() + 1);
    return k;
}

// The same keys on the stack, for the commit's hot paths (no allocation per record).
using AddrKeyBuf = std::array<uint8_t, 1 + 20>;
using SlotKeyBuf = std::array<uint8_t, 1 + 20 + 32>;

AddrKeyBuf addr_key_buf(uint8_t prefix, const Address& a) noexcept {
    AddrKeyBuf k{};
    k[0] = prefix;
    std::copy(a.bytes.begin(), a.bytes.end(), k.begin() + 1);
    return k;
}

SlotKeyBuf slot_key_buf(const Address& a, const U256& slot) noexcept {
    SlotKeyBuf k{};
    k[0] = kStoragePrefix;
    std::copy(a.bytes.begin(), a.bytes.end(), k.begin() + 1);
    slot.to_be32(k.data() + 21);
    return k;
}

// The minimal big-endian bytes of a non-zero `v` (the storage value record), written into `buf`.
ByteView trimmed_be(const U256& v, std::array<uint8_t, 32>& buf) noexcept {
    v.to_be32(buf.data());
    size_t i = 0;
    while (i < buf.size() && buf[i] == 0) ++i;
    return ByteView(buf.data() + i, buf.size() - i);
}

Bytes code_key(const Hash32& h) {
    Bytes k(1 + 32);
    k[0] = kCodePrefix;
    std::copy(h.bytes.begin(), h.bytes.end(), k.begin() + 1);
    return k;
}

Bytes encode_head(const StateHead& h) {
    Bytes out(kHeadSize, 0);
    out[0] = h.block_num.has_value() ? 1 : 0;
    const uint64_t n = h.block_num.value_or(0);
    for (size_t i = 0; i < 8; ++i) out[1 + i] = static_cast<uint8_t>(n >> (56 - 8 * i));
    std::copy(h.state_root.bytes.begin(), h.state_root.bytes.end(), out.begin() + 9);
    return out;
}

Result<StateHead> decode_head(ByteView rec) {
    if (rec.size() != kHeadSize || rec[0] > 1) {
        return make_error("state: database corrupt: bad head record (", rec.size(), " bytes)");
    }
    StateHead h;
    if (rec[0] == 1) {
        uint64_t n = 0;
        for (size_t i = 0; i < 8; ++i) n = (n << 8) | rec[1 + i];
        h.block_num = n;
    }
    std::copy(rec.begin() + 9, rec.end(), h.state_root.bytes.begin());
    return h;
}

Result<std::optional<Account>> decode_account_record(const std::optional<Bytes>& rec) {
    if (!rec) return std::optional<Account>{};
    auto a = decode_stored_account(*rec);
    if (!a) return make_error("state: database corrupt: ", a.error().message);
    return std::optional<Account>{*a};
}

Result<U256> decode_slot_record(const std::optional<Bytes>& rec) {
    if (!rec) return U256{};
    if (rec->empty() || rec->size() > 32 || (*rec)[0] == 0) {
        return make_error("state: database corrupt: bad storage value record");
    }
    return U256::from_be_bytes(*rec);
}

// Calls fn(slot, value) for every stored slot of `addr`, in slot order, until it returns false.
// Errors: I/O, corruption.
template <typename Fn>
Result<void> scan_slots(const KvStore& kv, const Address& addr, Fn&& fn) {
    Result<void> bad;
    PEL_TRY_VOID(kv.for_each_prefix(addr_key(kStoragePrefix, addr), [&](ByteView k, ByteView v) {
        if (k.size() != 1 + sizeof(Address) + 32) {
            bad = make_error("state: database corrupt: bad storage key of ", addr.to_hex());
            return false;
        }
        auto value = decode_slot_record(Bytes(v.begin(), v.end()));
        if (!value) {
            bad = unexpected(value.error());
            return false;
        }
        return fn(U256::from_be32(k.data() + 1 + sizeof(Address)), *value);
    }));
    return bad;
}

// The storage trie keys of `slots`: keccak256 of each slot's 32 bytes, hashed in groups.
std::vector<Hash32> slot_trie_keys(std::span<const U256> slots) {
    std::vector<Hash32> preimages;
    preimages.reserve(slots.size());
    for (const U256& s : slots) preimages.push_back(s.to_hash());
    std::vector<ByteView> in;
    in.reserve(preimages.size());
    for (const Hash32& h : preimages) in.push_back(h.view());
    std::vector<Hash32> keys(preimages.size());
    keccak256_many(in, keys);
    return keys;
}

std::string printable(ByteView v) {
    const bool text = std::all_of(v.begin(), v.end(), [](uint8_t c) { return c >= 32 && c < 127; });
    if (text) return {v.begin(), v.end()};
    return "0x" + to_hex(v, false);
}

struct SlotKey {
    Address addr;
    U256 slot;
    friend bool operator==(const SlotKey&, const SlotKey&) = default;
};

struct SlotKeyHash {
    size_t operator()(const SlotKey& k) const noexcept {
        return std::hash<Address>{}(k.addr) ^ (std::hash<U256>{}(k.slot) * 0x9e3779b97f4a7c15ULL);
    }
};

// A storage trie with at most this many node records is read in one scan when first loaded.
constexpr size_t kWholeStorageTrieRecords = 256;

constexpr size_t kAccountCharge = sizeof(Address) + sizeof(std::optional<Account>);
constexpr size_t kSlotCharge = sizeof(SlotKey) + sizeof(U256);

// What views share with the store (and keep alive after it).
struct Shared {
    explicit Shared(std::shared_ptr<KvStore> store, size_t cache_bytes)
        : kv(std::move(store)),
          accounts(cache_bytes / 2),
          slots(cache_bytes / 2 - cache_bytes / 8),
          code(cache_bytes / 8) {}

    std::shared_ptr<KvStore> kv;
    internal::ShardedCache<Address, std::optional<Account>> accounts;
    internal::ShardedCache<SlotKey, U256, SlotKeyHash> slots;
    internal::ShardedCache<Hash32, std::shared_ptr<const Bytes>> code;
    std::atomic<uint64_t> commit_seq{0};    // odd while a commit updates the cache
    std::atomic<uint64_t> head_version{0};  // version of the latest published head
};

class View final : public StateView {
  public:
    View(std::shared_ptr<Shared> shared, std::shared_ptr<const KvSnapshot> snap, uint64_t version,
         StateHead head)
        : shared_(std::move(shared)), snap_(std::move(snap)), version_(version), head_(head) {}

    Result<std::optional<Account>> account(const Address& addr) const override {
        std::optional<Account> cached;
        if (shared_->accounts.lookup(addr, version_, cached)) return cached;
        const uint64_t seq = shared_->commit_seq.load(std::memory_order_acquire);
        const bool may_fill =
            (seq & 1U) == 0 && shared_->head_version.load(std::memory_order_acquire) == version_;
        PEL_TRY(auto rec, snap_->get(addr_key_buf(kAccountPrefix, addr)));
        PEL_TRY(auto acc, decode_account_record(rec));
        if (may_fill) {
            shared_->accounts.fill(addr, acc, version_, kAccountCharge, shared_->commit_seq, seq);
        }
        return acc;
    }

    Result<U256> storage(const Address& addr, const U256& slot) const override {
        const SlotKey key{addr, slot};
        U256 cached;
        if (shared_->slots.lookup(key, version_, cached)) return cached;
        const uint64_t seq = shared_->commit_seq.load(std::memory_order_acquire);
        const bool may_fill =
            (seq & 1U) == 0 && shared_->head_version.load(std::memory_order_acquire) == version_;
        PEL_TRY(auto rec, snap_->get(slot_key_buf(addr, slot)));
        PEL_TRY(const U256 value, decode_slot_record(rec));
        if (may_fill)
            shared_->slots.fill(key, value, version_, kSlotCharge, shared_->commit_seq, seq);
        return value;
    }

    Result<std::shared_ptr<const Bytes>> code(const Hash32& code_hash) const override {
        static const auto kEmpty = std::make_shared<const Bytes>();
        if (code_hash == kEmptyCodeHash) return kEmpty;
        std::shared_ptr<const Bytes> cached;
        if (shared_->code.lookup(code_hash, UINT64_MAX, cached)) return cached;
        PEL_TRY(auto rec, snap_->get(code_key(code_hash)));
        if (!rec) return std::shared_ptr<const Bytes>{};
        auto bytes = std::make_shared<const Bytes>(std::move(*rec));
        shared_->code.update(code_hash, bytes, 0, bytes->size());
        return bytes;
    }

    std::optional<uint64_t> block_num() const noexcept override { return head_.block_num; }
    Hash32 state_root() const noexcept override { return head_.state_root; }

  private:
    std::shared_ptr<Shared> shared_;
    std::shared_ptr<const KvSnapshot> snap_;
    uint64_t version_;
    StateHead head_;
};

// Runs body(i) for i in [0, n), on oneTBB workers when `parallel`. Bodies report failures through
// their own outputs; anything thrown (allocation failure) becomes `failed`.
template <class Body>
void for_each_index(size_t n, bool parallel, std::atomic<bool>& failed, const Body& body) {
    if (!parallel || n < 2) {
        for (size_t i = 0; i < n; ++i) body(i);
        return;
    }
    internal::parallel_for_index(n, [&](size_t i) {
        try {
            body(i);
        } catch (...) {
            failed.store(true, std::memory_order_relaxed);
        }
    });
}

double ms_since(std::chrono::steady_clock::time_point& t) {
    const auto now = std::chrono::steady_clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - t).count();
    t = now;
    return ms;
}

// One account's part of a commit, computed independently of the others.
struct Item {
    Address addr;
    Hash32 key;  // keccak256(addr)
    const AccountDiff* diff = nullptr;
    std::optional<Account> old;
    Account now;
    bool unchanged = false;
    KvWriteBatch deletes;                             // flat slots and storage trie nodes
    KvWriteBatch puts;                                // flat slots and storage trie nodes
    std::vector<std::pair<U256, U256>> slot_changes;  // for the cache (cleared slots as zero)
    Bytes value;  // RLP of `now` when the account record and its leaf are written
    internal::PathTrie* resident = nullptr;     // this account's resident storage trie, if any
    std::unique_ptr<internal::PathTrie> fresh;  // a storage trie made in this commit
    std::optional<Error> error;
};

// A block computed by prepare() and not yet written: everything commit_prepared() needs. It owns
// its diff (or, inside commit(), borrows the caller's, which outlives the call); the items point
// into it, so a PreparedBlock is heap-allocated and never moves.
struct PreparedBlock {
    StateDiff owned_diff;
    const StateDiff* diff = &owned_diff;
    std::vector<Item> items;
    KvWriteBatch deletes;  // deleted accounts and vacated state trie positions
    KvWriteBatch puts;     // accounts and code
    internal::TrieWrites trie_writes;
    // The batch, in order (without the auxiliary records and the head): every delete first, then
    // every put (a position vacated and refilled in this block ends up written). Points into the
    // items and the members above.
    std::vector<const KvWriteBatch*> parts;
    StateHead head;
    CommitStats stats;  // the prepare phases (write_ms: listing the batch)
};

}  // namespace

class StateStoreImpl {
  public:
    StateStoreImpl(std::shared_ptr<KvStore> kv, const StateStoreOptions& options, StateHead head)
        : options_(options),
          shared_(std::make_shared<Shared>(std::move(kv), options.cache_bytes)),
          head_(head),
          account_trie_(key1(kStateTriePrefix), head.state_root) {
        publish_view();
    }

    Result<void> verify() { return account_trie_.verify_root(*shared_->kv); }

    Result<Hash32> commit(uint64_t block_num, const StateDiff& diff, const KvWriteBatch* aux) {
        const std::lock_guard lock(commit_mu_);
        if (aux != nullptr) {
            PEL_TRY_VOID(check_aux(*aux));
        }
        auto p = std::make_unique<PreparedBlock>();
        p->diff = &diff;  // borrowed: the block is written or dropped before this returns
        PEL_TRY_VOID(prepare_locked(block_num, std::move(p), /*rewind=*/false));
        return commit_prepared_locked(aux);
    }

    Result<Hash32> prepare(uint64_t block_num, StateDiff diff, bool rewind) {
        const std::lock_guard lock(commit_mu_);
        auto p = std::make_unique<PreparedBlock>();
        p->owned_diff = std::move(diff);
        PEL_TRY_VOID(prepare_locked(block_num, std::move(p), rewind));
        return prepared_->head.state_root;
    }

    Result<void> for_each_slot(const Address& addr,
                               const std::function<bool(const U256&, const U256&)>& fn) const {
        const std::lock_guard lock(commit_mu_);  // the database is exactly the head's
        return scan_slots(*shared_->kv, addr, fn);
    }

    Result<Hash32> commit_prepared(const KvWriteBatch& aux) {
        const std::lock_guard lock(commit_mu_);
        if (!prepared_) return make_error("state: commit_prepared without a prepared block");
        PEL_TRY_VOID(check_aux(aux));
        return commit_prepared_locked(&aux);
    }

    void abandon_prepared() {
        const std::lock_guard lock(commit_mu_);
        abandon_locked();
    }

    std::optional<StateHead> prepared() const {
        const std::lock_guard lock(commit_mu_);
        if (!prepared_) return std::nullopt;
        return prepared_->head;
    }

    Result<std::optional<Bytes>> get_aux(ByteView key) const {
        if (key.empty() || key[0] != StateStore::kAuxPrefix) {
            return make_error("state: auxiliary keys start with 'x'");
        }
        return shared_->kv->get(key);
    }

    Result<void> for_each_aux(ByteView prefix,
                              const std::function<bool(ByteView, ByteView)>& fn) const {
        if (prefix.empty() || prefix[0] != StateStore::kAuxPrefix) {
            return make_error("state: auxiliary keys start with 'x'");
        }
        return shared_->kv->for_each_prefix(prefix, fn);
    }

    StateHead head() const {
        const std::lock_guard lock(head_mu_);
        return head_view_head_;
    }

    std::shared_ptr<const StateView> view() const {
        const std::lock_guard lock(head_mu_);
        return head_view_;
    }

    CommitStats last_commit_stats() {
        const std::lock_guard lock(commit_mu_);
        return stats_;
    }

    // Under commit_mu_ the database's trie records are exactly the head's tries (a prepared
    // block's changes are in memory until commit_prepared writes them), so fresh tries over the
    // database prove the head.
    Result<StateStore::AccountProof> prove(const Address& addr,
                                           const std::vector<U256>& slots) const {
        const std::lock_guard lock(commit_mu_);
        StateStore::AccountProof out;
        out.head = head_;
        internal::PathTrie state_trie(key1(kStateTriePrefix), head_.state_root);
        PEL_TRY(auto ap, state_trie.prove(keccak256(addr.view()), *shared_->kv));
        out.account_proof = std::move(ap.nodes);
        Hash32 storage_root = kEmptyTrieRoot;
        if (ap.value) {
            PEL_TRY(Account a, decode_account(*ap.value));
            storage_root = a.storage_root;
            out.account = a;
        }
        PEL_TRY(auto storage_trie, open_storage_trie(addr, storage_root));
        for (const U256& slot : slots) {
            StateStore::SlotProof sp;
            sp.slot = slot;
            PEL_TRY(auto p, storage_trie->prove(keccak256(slot.to_hash().view()), *shared_->kv));
            if (p.value) {
                rlp::Decoder d(*p.value);  // the leaf holds rlp(minimal big-endian value)
                auto v = d.read_u256();
                if (!v || !d.expect_end() || v->is_zero()) {
                    return make_error("state: database corrupt: bad storage trie leaf of ",
                                      addr.to_hex());
                }
                sp.value = *v;
            }
            sp.proof = std::move(p.nodes);
            out.storage.push_back(std::move(sp));
        }
        return out;
    }

    Result<size_t> storage_record_count(const Address& addr) const {
        size_t n = 0;
        auto count = [&](ByteView, ByteView) {
            ++n;
            return true;
        };
        PEL_TRY_VOID(shared_->kv->for_each_prefix(addr_key(kStoragePrefix, addr), count));
        PEL_TRY_VOID(shared_->kv->for_each_prefix(addr_key(kStorageTriePrefix, addr), count));
        return n;
    }

  private:
    void publish_view() {
        auto v = std::make_shared<const View>(shared_, shared_->kv->snapshot(), version_, head_);
        const std::lock_guard lock(head_mu_);
        head_view_ = std::move(v);
        head_view_head_ = head_;
    }

    static Result<void> check_aux(const KvWriteBatch& aux) {
        bool ok = true;
        aux.for_each([&](KvWriteBatch::Op, ByteView key, ByteView) {
            ok = ok && !key.empty() && key[0] == StateStore::kAuxPrefix;
        });
        if (!ok) return make_error("state: auxiliary record key outside the 'x' prefix");
        return {};
    }

    // The two phases of a commit, with commit_mu_ held. prepare_locked abandons any prepared
    // block, computes `p` and keeps it in prepared_ (on error, drops it and every in-memory trie
    // change). commit_prepared_locked writes prepared_ with `aux` (checked) and publishes it; on
    // error the block is abandoned.
    // `rewind`: block_num must be below the head (StateStore::prepare_rewind).
    Result<void> prepare_locked(uint64_t block_num, std::unique_ptr<PreparedBlock> p, bool rewind);
    Result<Hash32> commit_prepared_locked(const KvWriteBatch* aux);
    void abandon_locked() {
        if (!prepared_) return;
        drop_trie_changes(prepared_->items);
        prepared_.reset();
    }
    // Undoes what a prepare (complete or failed half-way) did to the in-memory tries: the state
    // trie forgets its loaded nodes and takes the head root again; the resident storage tries the
    // items used are dropped (they reload). The items' fresh tries were never made resident.
    void drop_trie_changes(const std::vector<Item>& items) {
        account_trie_.reset(head_.state_root);
        for (const Item& it : items) {
            if (it.resident != nullptr) storage_tries_.erase(it.addr);
        }
    }

    Result<void> load_old(Item& item) const;
    // The storage trie of `addr` at `root` (the head's), ready for updates and proofs: a small
    // trie wholly loaded (one scan of its records), a large one to load lazily, or a trie with no
    // records rebuilt in memory from the account's flat slots and checked against `root`.
    Result<std::unique_ptr<internal::PathTrie>> open_storage_trie(const Address& addr,
                                                                  const Hash32& root) const;
    void update_storage(Item& item) const;
    void keep_storage_tries(std::vector<Item>& items, uint64_t version);

    StateStoreOptions options_;
    std::shared_ptr<Shared> shared_;
    mutable std::mutex commit_mu_;     // one commit (or prepare, commit_prepared) at a time
    StateHead head_;                   // guarded by commit_mu_ (after construction)
    uint64_t version_ = 0;             // commits since open; guarded by commit_mu_
    internal::PathTrie account_trie_;  // guarded by commit_mu_
    struct ResidentTrie {
        std::unique_ptr<internal::PathTrie> trie;
        uint64_t last_used = 0;  // store version of the last commit that changed it
    };
    // Storage tries kept in memory between commits (nodes and leaves), so that a contract whose
    // storage changes again does not reload its trie from the database. At most
    // options_.resident_storage_tries; the least recently changed go first.
    std::unordered_map<Address, ResidentTrie> storage_tries_;  // guarded by commit_mu_
    CommitStats stats_;                                        // guarded by commit_mu_
    // The prepared block, if any. While it exists, account_trie_ and the resident storage tries
    // its items used are at its state (abandon_locked puts them back).
    std::unique_ptr<PreparedBlock> prepared_;  // guarded by commit_mu_
    mutable std::mutex head_mu_;
    std::shared_ptr<const View> head_view_;  // guarded by head_mu_
    StateHead head_view_head_;               // guarded by head_mu_
};

void StateStoreImpl::keep_storage_tries(std::vector<Item>& items, uint64_t version) {
    for (Item& it : items) {
        if (it.fresh) {
            storage_tries_[it.addr] = ResidentTrie{std::move(it.fresh), version};
        } else if (it.diff->deleted || it.diff->storage_cleared) {
            storage_tries_.erase(it.addr);  // its storage is gone
        } else if (it.resident != nullptr) {
            storage_tries_[it.addr].last_used = version;
        }
    }
    const size_t limit = options_.resident_storage_tries;
    if (storage_tries_.size() <= limit) return;
    // Drop the least recently changed down to three quarters of the limit (amortised).
    std::vector<std::pair<uint64_t, Address>> ages;
    ages.reserve(storage_tries_.size());
    for (const auto& [addr, t] : storage_tries_) ages.emplace_back(t.last_used, addr);
    const size_t drop = storage_tries_.size() - limit * 3 / 4;
    std::nth_element(ages.begin(), ages.begin() + static_cast<std::ptrdiff_t>(drop), ages.end());
    for (size_t i = 0; i < drop; ++i) storage_tries_.erase(ages[i].second);
}

Result<void> StateStoreImpl::load_old(Item& item) const {
    std::optional<Account> cached;
    if (shared_->accounts.lookup(item.addr, version_, cached)) {
        item.old = cached;
        return {};
    }
    PEL_TRY(auto rec, shared_->kv->get(addr_key_buf(kAccountPrefix, item.addr)));
    PEL_TRY(item.old, decode_account_record(rec));
    return {};
}

Result<std::unique_ptr<internal::PathTrie>> StateStoreImpl::open_storage_trie(
    const Address& addr, const Hash32& root) const {
    const KvStore& kv = *shared_->kv;
    auto memory_only = [&] {
        return std::make_unique<internal::PathTrie>(addr_key(kStorageTriePrefix, addr),
                                                    kEmptyTrieRoot, /*keep_leaves=*/true,
                                                    internal::Persistence::kMemoryOnly);
    };
    // An empty trie (the account's slots may still be in the database, being wiped).
    if (root == kEmptyTrieRoot) return memory_only();
    auto stored = std::make_unique<internal::PathTrie>(addr_key(kStorageTriePrefix, addr), root,
                                                       /*keep_leaves=*/true);
    PEL_TRY(const internal::LoadAll loaded, stored->load_all(kv, kWholeStorageTrieRecords));
    if (loaded != internal::LoadAll::kNoRecords) return stored;
    // No records: a small trie, kept only in memory. Its flat slots give its leaves.
    auto trie = memory_only();
    std::vector<U256> slots;
    std::vector<U256> values;
    PEL_TRY_VOID(scan_slots(kv, addr, [&](const U256& slot, const U256& value) {
        slots.push_back(slot);
        values.push_back(value);
        return true;
    }));
    const std::vector<Hash32> keys = slot_trie_keys(slots);
    std::vector<uint32_t> order(keys.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
    Bytes value;
    for (const uint32_t i : order) {
        value.clear();
        rlp::encode_uint(value, values[i]);
        PEL_TRY_VOID(trie->put(keys[i], value, false, kv));
    }
    internal::TrieWrites none;
    if (trie->hash(none, false) != root) {
        return make_error("state: database corrupt: the storage slots of ", addr.to_hex(),
                          " do not hash to its storage root (", slots.size(), " slots, no trie)");
    }
    return trie;
}

// Storage of one account: wipe (delete, clear), slot writes, storage trie update and hash.
void StateStoreImpl::update_storage(Item& item) const {
    const AccountDiff& d = *item.diff;
    const KvStore& kv = *shared_->kv;
    Hash32 root = item.old ? item.old->storage_root : kEmptyTrieRoot;
    bool wiped = false;
    if ((d.deleted || d.storage_cleared) && root != kEmptyTrieRoot) {
        auto r = kv.for_each_prefix(addr_key(kStoragePrefix, item.addr), [&](ByteView k, ByteView) {
            item.deletes.del(k);
            item.slot_changes.emplace_back(U256::from_be32(k.data() + 21), U256{});
            return true;
        });
        if (r) {
            r = kv.for_each_prefix(addr_key(kStorageTriePrefix, item.addr),
                                   [&](ByteView k, ByteView) {
                                       item.deletes.del(k);
                                       return true;
                                   });
        }
        if (!r) {
            item.error = r.error();
            return;
        }
        root = kEmptyTrieRoot;
        wiped = true;
    }
    if (!d.deleted && !d.storage.empty()) {
        // The resident trie (upper nodes and leaves kept from earlier blocks) when it is at this
        // root; otherwise a fresh one that loads what it needs and becomes resident afterwards.
        if (item.resident == nullptr || item.resident->root() != root) {
            auto fresh = open_storage_trie(item.addr, root);  // becomes resident afterwards
            if (!fresh) {
                item.error = fresh.error();
                return;
            }
            item.fresh = std::move(*fresh);
        }
        internal::PathTrie& trie = item.fresh ? *item.fresh : *item.resident;
        std::vector<std::pair<Hash32, const std::pair<const U256, U256>*>> slots;
        {
            std::vector<U256> changed;
            changed.reserve(d.storage.size());
            for (const auto& e : d.storage) changed.push_back(e.first);
            const std::vector<Hash32> keys = slot_trie_keys(changed);
            slots.reserve(d.storage.size());
            size_t k = 0;
            for (const auto& e : d.storage) slots.emplace_back(keys[k++], &e);
        }
        std::sort(slots.begin(), slots.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        Bytes value;
        std::array<uint8_t, 32> be{};
        for (const auto& [hkey, e] : slots) {
            const auto& [slot, v] = *e;
            Result<void> r;
            if (v.is_zero()) {
                r = trie.erase(hkey, kv);
                item.deletes.del(slot_key_buf(item.addr, slot));
            } else {
                value.clear();
                rlp::encode_uint(value, v);
                // A slot the cache knows to be set (the executor has usually just read it) is
                // in the persisted trie: its leaf need not be loaded. (A memory-only trie loads
                // nothing: no need to ask.)
                U256 cached;
                const bool present =
                    !wiped && trie.persistence() == internal::Persistence::kRecords &&
                    shared_->slots.lookup(SlotKey{item.addr, slot}, version_, cached) &&
                    !cached.is_zero();
                r = trie.put(hkey, value, present, kv);
                item.puts.put(slot_key_buf(item.addr, slot), trimmed_be(v, be));
            }
            if (!r) {
                item.error = r.error();
                return;
            }
            item.slot_changes.emplace_back(slot, v);
        }
        if (trie.persistence() == internal::Persistence::kMemoryOnly &&
            trie.memory_only_size() > options_.small_storage_trie_slots) {
            trie.persist_all();  // grown out of the small kind: write every node from now on
        }
        internal::TrieWrites w;
        root = trie.hash(w, options_.parallel && slots.size() > 1024);
        for (const Bytes& k : w.deletes) item.deletes.del(k);
        w.append_puts_to(item.puts);
    }
    item.now.storage_root = root;
}

Result<void> StateStoreImpl::prepare_locked(uint64_t block_num, std::unique_ptr<PreparedBlock> p,
                                            bool rewind) {
    abandon_locked();
    if (rewind) {
        if (!head_.block_num || block_num >= *head_.block_num) {
            return make_error("state: rewind to block ", block_num, " but the store is at ",
                              head_.block_num ? "block " + std::to_string(*head_.block_num)
                                              : std::string("no block"));
        }
    } else if (head_.block_num && block_num != *head_.block_num + 1) {
        return make_error("state: commit of block ", block_num, " but the store is at block ",
                          *head_.block_num, " (expected ", *head_.block_num + 1, ")");
    }
    const StateDiff& diff = *p->diff;
    CommitStats& stats = p->stats;
    auto t = std::chrono::steady_clock::now();
    std::vector<Item>& items = p->items;
    items.reserve(diff.accounts.size());
    for (const auto& [addr, d] : diff.accounts) {
        if (d.deleted &&
            (d.storage_cleared || d.nonce || d.balance || d.code || !d.storage.empty())) {
            return make_error("state: invalid diff: account ", addr.to_hex(),
                              " is deleted and also changed");
        }
        Item item;
        item.addr = addr;
        item.diff = &d;
        items.push_back(std::move(item));
    }

    // 1. Keys and old accounts; 2. storage (per account, independent). On failure nothing has
    // changed yet.
    for (Item& it : items) {
        if (it.diff->storage.empty()) continue;
        const auto found = storage_tries_.find(it.addr);
        if (found != storage_tries_.end()) it.resident = found->second.trie.get();
    }
    // Every failure from here on may have changed resident tries: forget them (they reload).
    auto fail = [&](Error e) -> Result<void> {
        drop_trie_changes(items);
        return unexpected(std::move(e));
    };
    std::atomic<bool> failed{false};
    // The accounts' trie keys, keccak256 of each address, hashed in groups of up to 64.
    constexpr size_t kKeyGroup = 64;
    for_each_index((items.size() + kKeyGroup - 1) / kKeyGroup, options_.parallel, failed,
                   [&](size_t g) {
                       const size_t begin = g * kKeyGroup;
                       const size_t n = std::min(kKeyGroup, items.size() - begin);
                       std::array<ByteView, kKeyGroup> in;
                       std::array<Hash32, kKeyGroup> keys;
                       for (size_t k = 0; k < n; ++k) in[k] = items[begin + k].addr.view();
                       keccak256_many(std::span(in).first(n), std::span(keys).first(n));
                       for (size_t k = 0; k < n; ++k) items[begin + k].key = keys[k];
                   });
    for_each_index(items.size(), options_.parallel, failed, [&](size_t i) {
        Item& it = items[i];
        const AccountDiff& d = *it.diff;
        if (d.code && keccak256(d.code->bytes) != d.code->hash) {
            it.error = Error{"state: invalid diff: code hash of account " + it.addr.to_hex() +
                             " is not keccak256 of its code"};
            return;
        }
        if (auto r = load_old(it); !r) {
            it.error = r.error();
            return;
        }
        it.now = it.old.value_or(Account{});
        if (d.nonce) it.now.nonce = *d.nonce;
        if (d.balance) it.now.balance = *d.balance;
        if (d.code) it.now.code_hash = d.code->hash;
        update_storage(it);
        it.unchanged = !d.deleted && it.old && *it.old == it.now;
        if (!d.deleted && !it.unchanged) encode_account(it.value, it.now);
    });
    if (failed.load()) return fail(Error{"state: allocation failure during commit"});
    for (const Item& it : items) {
        if (it.error) return fail(*it.error);
    }
    // Trie order (sorted by hashed key), as indexes: items are large and stay where they are.
    // The keys' first 8 bytes ride along, so that most comparisons do not touch the items.
    std::vector<std::pair<uint64_t, uint32_t>> order(items.size());
    for (size_t i = 0; i < order.size(); ++i) {
        uint64_t head = 0;
        for (size_t b = 0; b < 8; ++b) head = head << 8 | items[i].key.bytes[b];
        order[i] = {head, static_cast<uint32_t>(i)};
    }
    std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first < b.first;
        return items[a.second].key < items[b.second].key;
    });
    stats.accounts_ms = ms_since(t);

    // 3. The state trie (sequential: the structure is shared), then its hash (parallel).
    std::vector<internal::TrieOp> ops;
    ops.reserve(items.size());
    for (const auto& [head, i] : order) {
        const Item& it = items[i];
        if (it.diff->deleted) {
            if (it.old) ops.push_back(internal::TrieOp{it.key, {}, true});
        } else if (!it.unchanged) {
            ops.push_back(internal::TrieOp{it.key, it.value, it.old.has_value()});
        }
    }
    if (auto r = account_trie_.apply(ops, *shared_->kv, options_.parallel); !r) {
        return fail(r.error());
    }
    stats.trie_update_ms = ms_since(t);
    internal::TrieWrites& trie_writes = p->trie_writes;
    const Hash32 root = account_trie_.hash(trie_writes, options_.parallel);
    stats.trie_hash_ms = ms_since(t);

    // 4. The batch, as a list of the buffers that hold it (the store writes them as one batch
    // without copying them together first); commit_prepared adds the auxiliary records and the
    // head.
    std::vector<const KvWriteBatch*>& parts = p->parts;
    parts.reserve(items.size() / 4 + trie_writes.more_puts.size() + 8);
    for (const Item& it : items) {
        if (it.deletes.count() > 0) parts.push_back(&it.deletes);
        if (it.diff->deleted && it.old) p->deletes.del(addr_key_buf(kAccountPrefix, it.addr));
    }
    for (const Bytes& k : trie_writes.deletes) p->deletes.del(k);
    parts.push_back(&p->deletes);
    Bytes stored;
    for (const Item& it : items) {
        if (it.puts.count() > 0) parts.push_back(&it.puts);
        if (!it.diff->deleted && !it.unchanged) {
            stored.clear();
            encode_stored_account(stored, it.now);
            p->puts.put(addr_key_buf(kAccountPrefix, it.addr), stored);
        }
        if (it.diff->code && !it.diff->code->bytes.empty()) {
            p->puts.put(code_key(it.diff->code->hash), it.diff->code->bytes);
        }
    }
    parts.push_back(&p->puts);
    parts.push_back(&trie_writes.puts);
    for (const KvWriteBatch& b : trie_writes.more_puts) parts.push_back(&b);
    p->head = StateHead{block_num, root};
    stats.write_ms = ms_since(t);
    prepared_ = std::move(p);
    return {};
}

Result<Hash32> StateStoreImpl::commit_prepared_locked(const KvWriteBatch* aux) {
    if (!prepared_) return make_error("state: commit_prepared without a prepared block");
    // Whatever happens below, the prepared block is consumed: written, or abandoned on error.
    const std::unique_ptr<PreparedBlock> p = std::move(prepared_);
    CommitStats stats = p->stats;
    auto t = std::chrono::steady_clock::now();
    std::vector<Item>& items = p->items;
    KvWriteBatch head_record;
    head_record.put(key1(kHeadPrefix), encode_head(p->head));
    std::vector<const KvWriteBatch*>& parts = p->parts;
    if (aux != nullptr) parts.push_back(aux);
    parts.push_back(&head_record);

    // 5. The synced write and, beside it, the cache: the new values tagged with the new version.
    // No view can use those entries before the head is published (every view's version is older),
    // and no reader fills the cache while commit_seq is odd. If the write fails, the entries of
    // every changed key are dropped again (a key that is not cached is always safe). The cache is
    // thread safe and every key belongs to one item, so the updates also fan out. An allocation
    // failure while updating the cache cannot be undone, so it is fatal.
    const uint64_t next = version_ + 1;
    shared_->commit_seq.fetch_add(1, std::memory_order_acq_rel);  // odd: cache being updated
    Result<void> written;
    double kv_write_ms = 0;
    double cache_ms = 0;
    std::atomic<bool> cache_failed{false};
    internal::run_both(
        [&] {
            auto t_write = std::chrono::steady_clock::now();
            try {
                written = shared_->kv->write_parts(parts, options_.sync);
            } catch (...) {
                written = make_error("state: allocation failure while writing the batch");
            }
            kv_write_ms = ms_since(t_write);
        },
        [&] {
            auto t_cache = std::chrono::steady_clock::now();
            for_each_index(items.size(), options_.parallel, cache_failed, [&](size_t i) {
                const Item& it = items[i];
                if (it.diff->deleted) {
                    shared_->accounts.update(it.addr, std::nullopt, next, kAccountCharge);
                } else if (!it.unchanged) {
                    shared_->accounts.update(it.addr, it.now, next, kAccountCharge);
                }
                for (const auto& [slot, v] : it.slot_changes) {
                    shared_->slots.update(SlotKey{it.addr, slot}, v, next, kSlotCharge);
                }
            });
            cache_ms = ms_since(t_cache);
        });
    PEL_ASSERT(!cache_failed.load(), "state: allocation failure while updating the cache");
    if (!written) {
        for (const Item& it : items) {
            shared_->accounts.erase(it.addr);
            for (const auto& [slot, v] : it.slot_changes)
                shared_->slots.erase(SlotKey{it.addr, slot});
        }
        shared_->commit_seq.fetch_add(1, std::memory_order_acq_rel);
        drop_trie_changes(items);
        return unexpected(written.error());
    }
    for (const KvWriteBatch* b : parts) {
        stats.batch_ops += b->count();
        stats.batch_bytes += b->byte_size();
    }
    stats.write_ms += ms_since(t);
    stats.kv_write_ms = kv_write_ms;
    stats.cache_ms = cache_ms;

    keep_storage_tries(items, next);
    version_ = next;
    head_ = p->head;
    shared_->head_version.store(next, std::memory_order_release);
    publish_view();
    shared_->commit_seq.fetch_add(1, std::memory_order_acq_rel);  // even: stable
    stats.publish_ms = ms_since(t);
    stats_ = stats;
    return head_.state_root;
}

Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& path,
                                                     const StateStoreOptions& options) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path dir(path);
    bool create = true;
    if (fs::exists(dir, ec)) {
        if (!fs::is_directory(dir, ec)) {
            return make_error("state: ", path, " exists and is not a directory");
        }
        const bool has_current = fs::exists(dir / "CURRENT", ec);
        if (!has_current && !fs::is_empty(dir, ec)) {
            return make_error("state: ", path,
                              " is not empty and holds no LevelDB database (no CURRENT file)");
        }
        create = !has_current;
    }
    if (ec) return make_error("state: cannot inspect ", path, ": ", ec.message());
    LevelDbOptions lo;
    lo.create_if_missing = create;
    lo.block_cache_bytes = options.leveldb_block_cache_bytes;
    lo.write_buffer_bytes = options.leveldb_write_buffer_bytes;
    lo.background_nice = options.leveldb_background_nice;
    PEL_TRY(auto kv, open_leveldb_store(path, lo));
    return open(std::move(kv), options);
}

Result<std::unique_ptr<StateStore>> StateStore::open(std::shared_ptr<KvStore> kv,
                                                     const StateStoreOptions& options) {
    const std::string expected = format_record();
    PEL_TRY(auto fmt, kv->get(key1(kFormatPrefix)));
    if (!fmt) {
        bool any = false;
        PEL_TRY_VOID(kv->for_each_prefix({}, [&](ByteView, ByteView) {
            any = true;
            return false;
        }));
        if (any) {
            return make_error(
                "state: not a pel state database, or its format record is missing "
                "(expected '",
                expected, "')");
        }
        KvWriteBatch init;
        init.put(key1(kFormatPrefix), as_bytes(expected));
        init.put(key1(kHeadPrefix), encode_head(StateHead{}));
        PEL_TRY_VOID(kv->write(init, true));
    } else if (!equal(*fmt, as_bytes(expected))) {
        return make_error("state: database format mismatch: found '", printable(*fmt),
                          "', this build reads '", expected, "'");
    }
    PEL_TRY(auto head_rec, kv->get(key1(kHeadPrefix)));
    if (!head_rec) return make_error("state: database corrupt: head record missing");
    PEL_TRY(const StateHead head, decode_head(*head_rec));
    auto impl = std::make_unique<StateStoreImpl>(std::move(kv), options, head);
    PEL_TRY_VOID(impl->verify());
    return std::unique_ptr<StateStore>(new StateStore(std::move(impl)));
}

StateStore::StateStore(std::unique_ptr<StateStoreImpl> impl) : impl_(std::move(impl)) {}
StateStore::~StateStore() = default;

Result<Hash32> StateStore::commit(uint64_t block_num, const StateDiff& diff) {
    return impl_->commit(block_num, diff, nullptr);
}

Result<Hash32> StateStore::commit(uint64_t block_num, const StateDiff& diff,
                                  const KvWriteBatch& aux) {
    return impl_->commit(block_num, diff, &aux);
}

Result<Hash32> StateStore::prepare(uint64_t block_num, StateDiff diff) {
    return impl_->prepare(block_num, std::move(diff), /*rewind=*/false);
}

Result<Hash32> StateStore::prepare_rewind(uint64_t block_num, StateDiff diff) {
    return impl_->prepare(block_num, std::move(diff), /*rewind=*/true);
}

Result<void> StateStore::for_each_slot(
    const Address& addr, const std::function<bool(const U256&, const U256&)>& fn) const {
    return impl_->for_each_slot(addr, fn);
}

Result<Hash32> StateStore::commit_prepared(const KvWriteBatch& aux) {
    return impl_->commit_prepared(aux);
}

void StateStore::abandon_prepared() { impl_->abandon_prepared(); }

std::optional<StateHead> StateStore::prepared() const { return impl_->prepared(); }

Result<std::optional<Bytes>> StateStore::get_aux(ByteView key) const { return impl_->get_aux(key); }

Result<void> StateStore::for_each_aux(
    ByteView prefix, const std::function<bool(ByteView key, ByteView value)>& fn) const {
    return impl_->for_each_aux(prefix, fn);
}

StateHead StateStore::head() const { return impl_->head(); }

std::shared_ptr<const StateView> StateStore::view() const { return impl_->view(); }

CommitStats StateStore::last_commit_stats() const { return impl_->last_commit_stats(); }

Result<StateStore::AccountProof> StateStore::prove(const Address& addr,
                                                   const std::vector<U256>& slots) const {
    return impl_->prove(addr, slots);
}

Result<size_t> StateStore::test_storage_record_count(const Address& addr) const {
    return impl_->storage_record_count(addr);
}

}  // namespace pel::state
