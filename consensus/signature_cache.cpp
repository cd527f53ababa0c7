// SPDX-License-Identifier: Apache-2.0
#include "consensus/signature_cache.hpp"

#include <algorithm>

#include "primitives/keccak.hpp"

namespace pel::consensus {

Result<Address> SignatureCache::recover(const Hash32& digest, const crypto::Signature& sig) {
    // Key: keccak(digest || r || s || v), so distinct signatures over one digest never collide.
    uint8_t buf[32 + 32 + 32 + 1];
    std::copy(digest.bytes.begin(), digest.bytes.end(), buf);
    sig.r.to_be32(buf + 32);  // NOLINT
    sig.s.to_be32(buf + 64);  // NOLINT
    buf[96] = sig.y_parity;   // NOLINT
    const Hash32 key = keccak256(ByteView{buf, sizeof(buf)});
    if (auto it = map_.find(key); it != map_.end()) {
        ++hits_;
        if (!it->second.valid) {
            return make_error("consensus: invalid signature (no key recovers it)");
        }
        return it->second.address;
    }
    ++misses_;
    auto r = crypto::recover_address(digest, sig, /*require_low_s=*/true);
    if (map_.size() >= capacity_) {
        map_.clear();
    }
    map_.emplace(key, Entry{r ? *r : Address{}, r.has_value()});
    return r;
}

}  // namespace pel::consensus
