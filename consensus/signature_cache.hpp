// SPDX-License-Identifier: Apache-2.0
// Memoised signer recovery. Gossip delivers the same signed message many times (re-broadcasts,
// duplicates, every peer forwarding it); recovering a secp256k1 key costs tens of microseconds,
// a hash lookup well under one. The cache maps (digest, signature) to the recovered address, or
// to "invalid". Entries are exact: a hit returns what recovery would return.
//
// Invariants: size() <= capacity; when an insert would exceed the capacity the whole cache is
// cleared first (simple, bounded, and correct since entries are only an optimisation).
// Thread safety: none; one owner at a time (the engine is single-threaded; the simulator shares
// one cache between the engines it runs on its single thread).
#pragma once

#include <cstddef>
#include <unordered_map>

#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/secp256k1.hpp"

namespace pel::consensus {

class SignatureCache {
  public:
    explicit SignatureCache(size_t capacity = 1 << 16) : capacity_(capacity) {}

    /// crypto::recover_address(digest, sig, require_low_s = true), memoised.
    [[nodiscard]] Result<Address> recover(const Hash32& digest, const crypto::Signature& sig);

    [[nodiscard]] size_t size() const noexcept { return map_.size(); }
    [[nodiscard]] size_t hits() const noexcept { return hits_; }
    [[nodiscard]] size_t misses() const noexcept { return misses_; }

  private:
    struct Entry {
        Address address;
        bool valid = false;
    };
    size_t capacity_;
    std::unordered_map<Hash32, Entry> map_;
    size_t hits_ = 0;
    size_t misses_ = 0;
};

}  // namespace pel::consensus
