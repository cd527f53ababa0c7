// SPDX-License-Identifier: Apache-2.0
// Helpers for the node core tests: temporary datadirs, dev-chain nodes, signed transactions.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "node/node.hpp"
#include "primitives/transaction.hpp"
#include "vm/precompiles.hpp"

namespace pel::node::test {

/// A fresh directory under the system temp dir, removed at destruction.
class TempDir {
  public:
    TempDir() {
        static std::atomic<uint64_t> counter{0};
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("pel-core-test-" + std::to_string(rd()) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;
    [[nodiscard]] std::string str() const { return path_.string(); }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

inline NodeConfig dev_config(const TempDir& dir) {
    NodeConfig c;
    c.datadir = dir.str();
    c.sync = false;
    c.threads = 2;
    return c;
}

inline std::unique_ptr<Node> open_node(const NodeConfig& c) {
    auto n = Node::open(c);
    EXPECT_TRUE(n.has_value()) << (n ? "" : n.error().message);
    if (!n) {
        return nullptr;
    }
    return std::move(*n);
}

inline constexpr uint64_t kGwei = 1'000'000'000;

/// An EIP-1559 transaction (chain 31337 unless given), signed by `key`.
inline Transaction make_txn(const Hash32& key, uint64_t nonce, std::optional<Address> to,
                            const U256& value, uint64_t gas = 21000, Bytes data = {},
                            U256 max_fee = U256(10 * kGwei), U256 tip = U256(kGwei),
                            uint64_t chain_id = 31337) {
    Transaction t;
    t.type = TxnType::kDynamicFee;
    t.chain_id = chain_id;
    t.nonce = nonce;
    t.max_fee_per_gas = max_fee;
    t.max_priority_fee_per_gas = tip;
    t.gas_limit = gas;
    t.to = to;
    t.value = value;
    t.data = std::move(data);
    const auto s = sign_transaction(t, key);
    EXPECT_TRUE(s.has_value());
    return t;
}

inline Bytes raw(const Transaction& t) { return encode_transaction(t); }

/// EIP-4844 test sidecars use the zero blob, whose KZG commitment and proof are both the point
/// at infinity (0xc0 then zeros): a valid opening that needs no trusted setup to compute.
inline Bytes kzg_infinity() {
    Bytes p(kKzgBytes, 0);
    p[0] = 0xc0;
    return p;
}

/// A blob transaction from `key` sending 1 wei to `to`, whose `blobs` versioned hashes are the
/// zero blob's (blob fee cap 10 wei), signed.
inline Transaction blob_txn(const Hash32& key, uint64_t nonce, const Address& to, size_t blobs) {
    Transaction t = make_txn(key, nonce, to, U256(1));
    t.type = TxnType::kBlob;
    t.max_fee_per_blob_gas = U256(10);
    t.blob_versioned_hashes.assign(blobs, vm::kzg_to_versioned_hash(kzg_infinity()));
    EXPECT_TRUE(sign_transaction(t, key).has_value());
    return t;
}

/// The network form of `t` with `blobs` zero blobs, their commitments, and `proof` (default: the
/// true one) as every proof.
inline Bytes zero_blob_network_form(const Transaction& t, size_t blobs,
                                    std::optional<Bytes> proof = std::nullopt) {
    const Bytes zero(kBlobBytes, 0);
    const Bytes c = kzg_infinity();
    const Bytes p = proof.value_or(c);
    const std::vector<ByteView> bs(blobs, ByteView(zero));
    const std::vector<ByteView> cs(blobs, ByteView(c));
    const std::vector<ByteView> ps(blobs, ByteView(p));
    return encode_blob_network_form(t, bs, cs, ps);
}

inline Address addr(uint8_t b) {
    Address a;
    a.bytes[19] = b;
    a.bytes[0] = 0xaa;
    return a;
}

inline U256 eth(uint64_t n) { return U256(n) * U256(1'000'000'000'000'000'000ULL); }

/// Waits (up to `timeout`) until pred() holds.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
}

}  // namespace pel::node::test
