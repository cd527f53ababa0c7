// SPDX-License-Identifier: Apache-2.0
// Admission through Node::submit_raw_transaction (geth's error strings), replacement, queued
// promotion, limits; and the Mempool's selection order.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "execution/transition.hpp"
#include "node/mempool.hpp"
#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "tests/unit/node/core_test_util.hpp"
#include "vm/precompiles.hpp"

namespace pel::node {
namespace {

using test::addr;
using test::eth;
using test::kGwei;
using test::make_txn;
using test::raw;
using test::TempDir;

class MempoolTest : public ::testing::Test {
  protected:
    void SetUp() override {
        node_ = test::open_node(config());
        ASSERT_TRUE(node_);
        key0_ = node_->dev_accounts()[0].secret_key;
        a0_ = node_->dev_accounts()[0].address;
        key1_ = node_->dev_accounts()[1].secret_key;
    }
    virtual NodeConfig config() { return test::dev_config(dir_); }

    std::string submit_error(const Transaction& t) {
        auto r = node_->submit_raw_transaction(raw(t));
        EXPECT_FALSE(r.has_value());
        if (r) {
            return "";
        }
        EXPECT_EQ(r.error().kind, ApiErrorKind::kRejected) << r.error().message;
        return r.error().message;
    }
    Hash32 submit_ok(const Transaction& t) {
        auto r = node_->submit_raw_transaction(raw(t));
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
        return r ? *r : Hash32{};
    }

    TempDir dir_;
    std::unique_ptr<Node> node_;
    Hash32 key0_;
    Hash32 key1_;
    Address a0_;
};

TEST_F(MempoolTest, returns_keccak_of_raw_and_already_known) {
    const Transaction t = make_txn(key0_, 0, addr(1), U256(1));
    EXPECT_EQ(submit_ok(t), keccak256(raw(t)));
    EXPECT_EQ(submit_error(t), "already known");
    auto pending = node_->transaction_by_hash(keccak256(raw(t)));
    ASSERT_TRUE(pending.has_value() && pending->has_value());
    EXPECT_FALSE((*pending)->block_hash.has_value());
    EXPECT_EQ((*pending)->from, a0_);
}

// submit_raw_transactions (a JSON-RPC batch) answers what the same transactions submitted one by
// one answer, in order: a later transaction sees the earlier ones in the pool (next nonce,
// duplicate, replacement), and every kind of error stays in its place.
TEST_F(MempoolTest, a_batch_answers_as_one_by_one_submission) {
    Transaction bad_sig = make_txn(key0_, 1, addr(1), U256(1));
    bad_sig.signature.r = U256(0);
    const std::vector<Bytes> raws = {
        raw(make_txn(key0_, 0, addr(1), U256(1))),
        raw(make_txn(key0_, 1, addr(1), U256(2))),
        raw(make_txn(key0_, 0, addr(1), U256(1))),  // the first again
        raw(bad_sig),
        Bytes{0x02, 0xc1, 0x05},  // undecodable
        Bytes{},
        raw(make_txn(key1_, 0, addr(1), U256(1), 20000)),  // intrinsic gas too low
        raw(make_txn(key1_, 0, addr(2), U256(1))),
        raw(make_txn(key0_, 1, addr(1), U256(3))),  // replacement at the same fees
        raw(make_txn(key0_, 3, addr(1), U256(1))),  // a gap: queued
        raw(make_txn(key0_, 0, addr(1), U256(1), 21000, {}, U256(10 * kGwei), U256(kGwei), 1)),
    };
    std::vector<ByteView> views(raws.begin(), raws.end());
    const auto batch = node_->submit_raw_transactions(views);

    TempDir other_dir;
    auto other = test::open_node(test::dev_config(other_dir));
    ASSERT_TRUE(other);
    ASSERT_EQ(batch.size(), raws.size());
    size_t ok = 0;
    for (size_t i = 0; i < raws.size(); ++i) {
        const auto one = other->submit_raw_transaction(raws[i]);
        ASSERT_EQ(batch[i].has_value(), one.has_value()) << i;
        if (one) {
            ++ok;
            EXPECT_EQ(*batch[i], *one) << i;
            EXPECT_EQ(*one, keccak256(raws[i])) << i;
        } else {
            EXPECT_EQ(batch[i].error().kind, one.error().kind) << i;
            EXPECT_EQ(batch[i].error().message, one.error().message) << i;
        }
    }
    EXPECT_EQ(ok, 4u);
    EXPECT_EQ(batch[2].error().message, "already known");
    EXPECT_EQ(batch[3].error().message, "invalid sender");
    EXPECT_EQ(batch[8].error().message, "replacement transaction underpriced");
    EXPECT_EQ(node_->metrics().mempool_pending, other->metrics().mempool_pending);
    EXPECT_EQ(node_->metrics().mempool_queued, other->metrics().mempool_queued);
    EXPECT_EQ(node_->metrics().mempool_pending, 3u);
    EXPECT_EQ(node_->metrics().mempool_queued, 1u);
}

TEST_F(MempoolTest, geth_error_strings) {
    EXPECT_EQ(submit_error(make_txn(key0_, 0, addr(1), U256(1), 20000)), "intrinsic gas too low");
    EXPECT_EQ(submit_error(make_txn(key0_, 0, addr(1), U256(1), 31'000'000)),
              "exceeds block gas limit");
    EXPECT_EQ(submit_error(make_txn(key0_, 0, addr(1), U256(1), 21000, {}, U256(10 * kGwei),
                                    U256(kGwei), 1)),
              "invalid chain id for signer");
    EXPECT_EQ(submit_error(make_txn(key0_, 0, addr(1), U256(1), 21000, {}, U256(1), U256(1))),
              "max fee per gas less than block base fee");
    EXPECT_EQ(submit_error(make_txn(key0_, 0, addr(1), U256(1), 21000, {}, U256(10 * kGwei),
                                    U256(11 * kGwei))),
              "max priority fee per gas higher than max fee per gas");
    const std::string funds = submit_error(make_txn(key0_, 0, addr(1), eth(20'000)));
    EXPECT_EQ(funds.rfind("insufficient funds for gas * price + value", 0), 0U) << funds;

    Transaction bad_sig = make_txn(key0_, 0, addr(1), U256(1));
    bad_sig.signature.r = U256(0);
    EXPECT_EQ(submit_error(bad_sig), "invalid sender");

    Transaction blob;
    blob.type = TxnType::kBlob;
    blob.chain_id = 31337;
    blob.max_fee_per_gas = U256(10 * kGwei);
    blob.max_priority_fee_per_gas = U256(kGwei);
    blob.gas_limit = 21000;
    blob.to = addr(1);
    blob.max_fee_per_blob_gas = U256(1);
    Hash32 vh;
    vh.bytes[0] = 1;
    blob.blob_versioned_hashes = {vh};
    ASSERT_TRUE(sign_transaction(blob, key0_).has_value());
    // The canonical form has no sidecar for the pool to check (see BlobMempoolTest).
    EXPECT_EQ(submit_error(blob), "missing sidecar in blob transaction");
    // A network form whose payload body does not decode is invalid input.
    const Bytes network_form{0x03, 0xc4, 0xc0, 0xc0, 0xc0, 0xc0};
    auto nf = node_->submit_raw_transaction(network_form);
    ASSERT_FALSE(nf.has_value());
    EXPECT_EQ(nf.error().kind, ApiErrorKind::kInvalidInput);
    EXPECT_EQ(nf.error().message.rfind("txn: field 'chain_id'", 0), 0U) << nf.error().message;

    // Undecodable input is invalid params, not a pool error.
    const Bytes junk{0x02, 0xc1, 0x05};
    auto r = node_->submit_raw_transaction(junk);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, ApiErrorKind::kInvalidInput);
    EXPECT_EQ(rpc_error_code(r.error().kind), -32602);
    EXPECT_EQ(node_->metrics().mempool_pending, 0U);
}

TEST_F(MempoolTest, nonce_too_low_after_mining) {
    submit_ok(make_txn(key0_, 0, addr(1), U256(1)));
    ASSERT_TRUE(node_->test_mine_block().has_value());
    const std::string e = submit_error(make_txn(key0_, 0, addr(2), U256(1)));
    EXPECT_EQ(e, "nonce too low: next nonce 1, tx nonce 0");
}

TEST_F(MempoolTest, replacement_needs_ten_percent_on_both_fees) {
    const Transaction t0 =
        make_txn(key0_, 0, addr(1), U256(1), 21000, {}, U256(10 * kGwei), U256(kGwei));
    const Hash32 h0 = submit_ok(t0);
    // +5%: refused.
    EXPECT_EQ(submit_error(make_txn(key0_, 0, addr(1), U256(2), 21000, {}, U256(10'500'000'000ULL),
                                    U256(1'050'000'000ULL))),
              "replacement transaction underpriced");
    // Fee cap +10% but tip unchanged: refused.
    EXPECT_EQ(submit_error(
                  make_txn(key0_, 0, addr(1), U256(2), 21000, {}, U256(11 * kGwei), U256(kGwei))),
              "replacement transaction underpriced");
    // Both +10%: replaces.
    const Hash32 h1 = submit_ok(
        make_txn(key0_, 0, addr(1), U256(2), 21000, {}, U256(11 * kGwei), U256(1'100'000'000ULL)));
    auto gone = node_->transaction_by_hash(h0);
    ASSERT_TRUE(gone.has_value());
    EXPECT_FALSE(gone->has_value());
    EXPECT_EQ(node_->metrics().mempool_pending, 1U);
    ASSERT_TRUE(node_->test_mine_block().has_value());
    auto receipt = node_->receipt_by_hash(h1);
    ASSERT_TRUE(receipt.has_value() && receipt->has_value());
    EXPECT_TRUE((*receipt)->status);
}

TEST_F(MempoolTest, queued_until_the_gap_fills_and_pending_nonce) {
    submit_ok(make_txn(key0_, 2, addr(1), U256(1)));
    submit_ok(make_txn(key0_, 1, addr(1), U256(1)));
    EXPECT_EQ(node_->metrics().mempool_queued, 2U);
    EXPECT_EQ(node_->metrics().mempool_pending, 0U);
    EXPECT_EQ(*node_->nonce(a0_, {BlockTag::kPending, 0}), 0U);
    // Nothing executable: no transaction is mined.
    ASSERT_TRUE(node_->test_mine_block().has_value());
    auto b1 = node_->block_by_number(BlockSelector::latest());
    EXPECT_TRUE((*b1)->transactions.empty());
    submit_ok(make_txn(key0_, 0, addr(1), U256(1)));
    EXPECT_EQ(node_->metrics().mempool_pending, 3U);
    EXPECT_EQ(node_->metrics().mempool_queued, 0U);
    EXPECT_EQ(*node_->nonce(a0_, {BlockTag::kPending, 0}), 3U);
    EXPECT_EQ(*node_->nonce(a0_, BlockSelector::latest()), 0U);
    ASSERT_TRUE(node_->test_mine_block().has_value());
    auto b2 = node_->block_by_number(BlockSelector::latest());
    ASSERT_EQ((*b2)->transactions.size(), 3U);
    for (uint64_t i = 0; i < 3; ++i) {
        EXPECT_EQ((*b2)->transactions[i].txn.nonce, i);
    }
    EXPECT_EQ(*node_->nonce(a0_, BlockSelector::latest()), 3U);
    EXPECT_EQ(node_->metrics().mempool_pending + node_->metrics().mempool_queued, 0U);
}

class MempoolLimitsTest : public MempoolTest {
  protected:
    NodeConfig config() override {
        NodeConfig c = test::dev_config(dir_);
        c.mempool_max_per_sender = 3;
        c.mempool_max_queued_per_sender = 1;
        c.mempool_max_total = 4;
        return c;
    }
};

TEST_F(MempoolLimitsTest, per_sender_queued_and_total_limits) {
    submit_ok(make_txn(key0_, 5, addr(1), U256(1)));  // queued
    EXPECT_EQ(submit_error(make_txn(key0_, 6, addr(1), U256(1))), "account limit exceeded");
    submit_ok(make_txn(key0_, 0, addr(1), U256(1)));
    submit_ok(make_txn(key0_, 1, addr(1), U256(1)));
    EXPECT_EQ(submit_error(make_txn(key0_, 2, addr(1), U256(1))), "account limit exceeded");
    submit_ok(make_txn(key1_, 0, addr(1), U256(1)));
    EXPECT_EQ(submit_error(make_txn(key1_, 1, addr(1), U256(1))), "txpool is full");
    // A replacement does not count against the limits.
    submit_ok(make_txn(key1_, 0, addr(1), U256(1), 21000, {}, U256(20 * kGwei), U256(2 * kGwei)));
}

// EIP-4844 blob transactions in their network form, with zero blobs (core_test_util.hpp).
// tests/e2e sends blobs with commitments and proofs computed by a KZG library.
class BlobMempoolTest : public MempoolTest {
  protected:
    /// The compressed BLS12-381 G1 generator: a valid point, but not the zero blob's proof.
    static Bytes g1_generator() {
        return from_hex(
                   "0x97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1"
                   "aeffb3af00adb22c6bb")
            .value();
    }
    Transaction blob_txn(uint64_t nonce, size_t blobs, const Hash32& key) const {
        return test::blob_txn(key, nonce, addr(7), blobs);
    }
    static Bytes network_form(const Transaction& t, size_t blobs,
                              std::optional<Bytes> proof = std::nullopt) {
        return test::zero_blob_network_form(t, blobs, std::move(proof));
    }
    std::string submit_raw_error(const Bytes& raw_bytes) {
        auto r = node_->submit_raw_transaction(raw_bytes);
        EXPECT_FALSE(r.has_value());
        return r ? "" : r.error().message;
    }
};

TEST_F(BlobMempoolTest, admits_mines_and_charges_a_blob_transaction) {
    const Transaction t = blob_txn(0, 2, key0_);
    const Bytes net = network_form(t, 2);
    const U256 before = *node_->balance(a0_, BlockSelector::latest());
    auto h = node_->submit_raw_transaction(net);
    ASSERT_TRUE(h.has_value()) << h.error().message;
    // The hash is the canonical form's, not the network form's.
    EXPECT_EQ(*h, keccak256(encode_transaction(t)));
    EXPECT_EQ(submit_raw_error(net), "already known");
    ASSERT_TRUE(node_->test_mine_block().has_value());
    auto receipt = node_->receipt_by_hash(*h);
    ASSERT_TRUE(receipt.has_value() && receipt->has_value());
    const ReceiptRecord& r = **receipt;
    EXPECT_TRUE(r.status);
    EXPECT_EQ(r.type, TxnType::kBlob);
    EXPECT_EQ(r.blob_gas_used, 2 * exec::kGasPerBlob);
    EXPECT_EQ(r.blob_gas_price, U256(1));  // the minimum blob base fee at excess 0
    auto block = node_->block_by_number(BlockSelector::latest());
    ASSERT_TRUE(block.has_value() && block->has_value());
    EXPECT_EQ((*block)->header.blob_gas_used, 2 * exec::kGasPerBlob);
    ASSERT_EQ((*block)->transactions.size(), 1U);
    EXPECT_EQ((*block)->transactions[0].txn.blob_versioned_hashes, t.blob_versioned_hashes);
    // Value 1, gas at the effective price, and the blob gas burned at the blob base fee.
    const U256 after = *node_->balance(a0_, BlockSelector::latest());
    EXPECT_EQ(before - after,
              U256(1) + U256(r.gas_used) * r.effective_gas_price + U256(2 * exec::kGasPerBlob));
}

TEST_F(BlobMempoolTest, calls_with_blob_hashes_see_them_and_send_transaction_refuses_them) {
    // Code: BLOBHASH(0), BLOBBASEFEE; returned as two words.
    const Address c = addr(0xc0);
    CallRequest req;
    req.to = c;
    const Hash32 vh = vm::kzg_to_versioned_hash(test::kzg_infinity());
    req.blob_versioned_hashes = std::vector<Hash32>{vh};
    AccountOverride code;
    code.code = from_hex(
                    "0x600049600052"
                    "4a602052"
                    "60406000f3")
                    .value();
    req.state_overrides.emplace_back(c, code);
    auto r = node_->call(req, BlockSelector::latest());
    ASSERT_TRUE(r.has_value() && r->success) << (r ? r->error : r.error().message);
    ASSERT_EQ(r->output.size(), 64U);
    EXPECT_TRUE(equal(ByteView(r->output).first(32), vh.view()));
    // No blob fee cap: the blob base fee is 0 for the call (geth), and a sender with nothing
    // pays no blob gas.
    EXPECT_EQ(U256::from_be32(r->output.data() + 32), U256(0));
    req.max_fee_per_blob_gas = U256(5);
    req.from = a0_;
    r = node_->call(req, BlockSelector::latest());
    ASSERT_TRUE(r.has_value() && r->success);
    EXPECT_EQ(U256::from_be32(r->output.data() + 32), U256(1));  // the block's blob base fee
    // eth_sendTransaction has no sidecar to attach.
    CallRequest send;
    send.from = a0_;
    send.to = addr(7);
    send.blob_versioned_hashes = std::vector<Hash32>{vh};
    auto s = node_->send_transaction(send);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().message, "missing sidecar in blob transaction");
}

TEST_F(BlobMempoolTest, refuses_unsound_sidecars_with_geths_messages) {
    const Transaction one = blob_txn(0, 1, key0_);
    // A valid point that is not the opening of this blob.
    EXPECT_EQ(submit_raw_error(network_form(one, 1, g1_generator())),
              "invalid blob 0: can't verify opening proof");
    // Not a point on the curve at all.
    Bytes off_curve = g1_generator();
    off_curve[47] ^= 1;
    EXPECT_EQ(submit_raw_error(network_form(one, 1, off_curve)).rfind("invalid blob 0: ", 0), 0U);
    EXPECT_EQ(submit_raw_error(network_form(one, 0)),
              "invalid number of 0 blobs compared to 1 blob hashes");
    EXPECT_EQ(submit_raw_error(network_form(one, 2)),
              "invalid number of 2 blobs compared to 1 blob hashes");
    Transaction wrong_hash = one;
    wrong_hash.blob_versioned_hashes[0].bytes[5] ^= 1;
    ASSERT_TRUE(sign_transaction(wrong_hash, key0_).has_value());
    EXPECT_EQ(submit_raw_error(network_form(wrong_hash, 1)).rfind("blob 0: computed hash 0x01", 0),
              0U);
    EXPECT_EQ(submit_raw_error(network_form(blob_txn(0, 7, key0_), 7)),
              "too many blobs in transaction: have 7, permitted 6");
    EXPECT_EQ(submit_raw_error(network_form(blob_txn(0, 0, key0_), 0)),
              "blobless blob transaction");
    Transaction cheap = one;
    cheap.max_fee_per_blob_gas = U256(0);
    ASSERT_TRUE(sign_transaction(cheap, key0_).has_value());
    EXPECT_EQ(submit_raw_error(network_form(cheap, 1)),
              "max fee per blob gas less than block blob gas fee");
    // The balance check counts the blob gas at the fee cap.
    Transaction costly = one;
    costly.max_fee_per_blob_gas = U256(10'000) * eth(1);
    ASSERT_TRUE(sign_transaction(costly, key0_).has_value());
    EXPECT_EQ(submit_raw_error(network_form(costly, 1))
                  .rfind("insufficient funds for gas * price + value", 0),
              0U);
    // Nothing was admitted.
    EXPECT_EQ(node_->metrics().mempool_pending, 0U);
    EXPECT_TRUE(node_->submit_raw_transaction(network_form(one, 1)).has_value());
}

TEST_F(BlobMempoolTest, a_block_holds_at_most_six_blobs) {
    // Three transactions of three blobs each: two fit in a block, the third waits for the next.
    std::vector<Hash32> hashes;
    for (uint64_t n = 0; n < 3; ++n) {
        auto h = node_->submit_raw_transaction(network_form(blob_txn(n, 3, key0_), 3));
        ASSERT_TRUE(h.has_value()) << h.error().message;
        hashes.push_back(*h);
    }
    ASSERT_TRUE(node_->test_mine_block().has_value());
    auto first = node_->block_by_number(BlockSelector::latest());
    ASSERT_TRUE(first.has_value() && first->has_value());
    EXPECT_EQ((*first)->transactions.size(), 2U);
    EXPECT_EQ((*first)->header.blob_gas_used, 6 * exec::kGasPerBlob);
    EXPECT_EQ(node_->metrics().mempool_pending, 1U);
    ASSERT_TRUE(node_->test_mine_block().has_value());
    auto second = node_->block_by_number(BlockSelector::latest());
    ASSERT_TRUE(second.has_value() && second->has_value());
    ASSERT_EQ((*second)->transactions.size(), 1U);
    EXPECT_EQ((*second)->transactions[0].hash, hashes[2]);
    // Six blobs is above the target of three: the excess grows by three blobs' gas.
    EXPECT_EQ((*second)->header.excess_blob_gas, 3 * exec::kGasPerBlob);
}

/// A pool entry of an EIP-1559 transfer from `sender` (100 gwei fee cap, `tip_gwei` tip), with a
/// hash made of the sender's last byte and the nonce; cost 1 wei.
std::shared_ptr<PoolTxn> pool_txn(const Address& sender, uint64_t nonce, uint64_t tip_gwei = 1) {
    auto p = std::make_shared<PoolTxn>();
    p->txn.type = TxnType::kDynamicFee;
    p->txn.nonce = nonce;
    p->txn.gas_limit = 21000;
    p->txn.max_fee_per_gas = U256(100 * kGwei);
    p->txn.max_priority_fee_per_gas = U256(tip_gwei * kGwei);
    p->sender = sender;
    p->hash.bytes[0] = sender.bytes[19];
    p->hash.bytes[1] = static_cast<uint8_t>(nonce);
    p->cost = U256(1);
    return p;
}

TEST(Mempool, blob_transactions_have_their_own_limit_and_bump_their_blob_fee_cap) {
    MempoolLimits limits;
    limits.max_blob_txs = 2;
    Mempool pool(limits);
    const SenderState rich{0, U256(1'000'000)};
    const auto blob = [](const Address& s, uint64_t nonce, uint64_t fee_gwei, uint64_t blob_fee) {
        auto p = pool_txn(s, nonce, fee_gwei);
        p->txn.type = TxnType::kBlob;
        p->txn.max_fee_per_gas = U256(100 * fee_gwei * kGwei);
        p->txn.max_fee_per_blob_gas = U256(blob_fee);
        p->txn.blob_versioned_hashes.resize(1);
        p->hash.bytes[2] = static_cast<uint8_t>(fee_gwei + blob_fee);
        return p;
    };
    ASSERT_TRUE(pool.add(blob(addr(1), 0, 1, 10), rich).has_value());
    ASSERT_TRUE(pool.add(blob(addr(2), 0, 1, 10), rich).has_value());
    auto full = pool.add(blob(addr(3), 0, 1, 10), rich);
    ASSERT_FALSE(full.has_value());
    EXPECT_EQ(full.error().message, "txpool is full");
    // Other transactions are not counted against it.
    EXPECT_TRUE(pool.add(pool_txn(addr(3), 0), rich).has_value());
    // Replacing a blob transaction: both fees and the blob fee cap go up by 10%.
    auto cheap = pool.add(blob(addr(1), 0, 2, 10), rich);
    ASSERT_FALSE(cheap.has_value());
    EXPECT_EQ(cheap.error().message, "replacement transaction underpriced");
    ASSERT_TRUE(pool.add(blob(addr(1), 0, 2, 11), rich).has_value());  // at the cap: a swap
    EXPECT_EQ(pool.size(), 3U);
    // Removed and mined ones free their places.
    pool.remove(pool.select(U256(kGwei), 30'000'000, 100).front()->hash);
    EXPECT_TRUE(pool.add(blob(addr(4), 0, 1, 10), rich).has_value());
    pool.on_block({}, {{addr(2), 1}});
    EXPECT_TRUE(pool.add(blob(addr(5), 0, 1, 10), rich).has_value());
    EXPECT_FALSE(pool.add(blob(addr(6), 0, 1, 10), rich).has_value());
    pool.clear();
    EXPECT_TRUE(pool.add(blob(addr(6), 0, 1, 10), rich).has_value());
}

TEST(Mempool, selection_interleaves_senders_with_equal_tips) {
    Mempool pool(MempoolLimits{});
    const SenderState rich{0, U256(1'000'000)};
    for (uint8_t s = 1; s <= 3; ++s) {
        for (uint64_t n = 0; n < 3; ++n) {
            ASSERT_TRUE(pool.add(pool_txn(addr(s), n), rich).has_value());
        }
    }
    const auto picked = pool.select(U256(kGwei), 30'000'000, 100);
    ASSERT_EQ(picked.size(), 9U);
    // Never the same sender twice in a row; each sender's nonces in order.
    std::map<Address, uint64_t> next;
    for (size_t i = 0; i < picked.size(); ++i) {
        if (i > 0) {
            EXPECT_NE(picked[i]->sender, picked[i - 1]->sender) << "position " << i;
        }
        EXPECT_EQ(picked[i]->txn.nonce, next[picked[i]->sender]++);
    }
}

TEST(Mempool, content_splits_pending_and_queued_by_sender_then_nonce) {
    Mempool pool(MempoolLimits{});
    const SenderState rich{0, U256(1'000'000)};
    // Added out of order: senders 3, 1, 2; sender 1 with a gap (nonce 5 is queued).
    for (const auto& [s, n] : std::vector<std::pair<uint8_t, uint64_t>>{
             {3, 1}, {3, 0}, {1, 5}, {1, 0}, {2, 0}, {1, 1}}) {
        ASSERT_TRUE(pool.add(pool_txn(addr(s), n), rich).has_value());
    }
    ASSERT_EQ(pool.queued_count(), 1U);
    using List = std::vector<std::pair<Address, uint64_t>>;
    const auto list = [](const std::vector<std::shared_ptr<const PoolTxn>>& txs) {
        List out;
        for (const auto& t : txs) out.emplace_back(t->sender, t->txn.nonce);
        return out;
    };
    // content(): the pending runs by sender, then the queued ones; all() is the two in a row.
    const auto c = pool.content();
    EXPECT_EQ(list(c.pending),
              (List{{addr(1), 0}, {addr(1), 1}, {addr(2), 0}, {addr(3), 0}, {addr(3), 1}}));
    EXPECT_EQ(list(c.queued), (List{{addr(1), 5}}));
    EXPECT_EQ(
        list(pool.all()),
        (List{{addr(1), 0}, {addr(1), 1}, {addr(2), 0}, {addr(3), 0}, {addr(3), 1}, {addr(1), 5}}));
    // Nonce 2 then 3 and 4 of sender 1: still a gap before 5, so 5 stays queued.
    ASSERT_TRUE(pool.add(pool_txn(addr(1), 2), rich).has_value());
    EXPECT_EQ(pool.content().queued.size(), 1U);
    ASSERT_TRUE(pool.add(pool_txn(addr(1), 3), rich).has_value());
    ASSERT_TRUE(pool.add(pool_txn(addr(1), 4), rich).has_value());
    EXPECT_TRUE(pool.content().queued.empty());
    EXPECT_EQ(pool.content().pending.size(), 9U);
    EXPECT_TRUE(Mempool(MempoolLimits{}).all().empty());
}

TEST(Mempool, selection_orders_by_tip_across_senders_and_nonce_within) {
    Mempool pool(MempoolLimits{});
    const auto mk = [](const Address& s, uint64_t nonce, uint64_t tip_gwei) {
        return pool_txn(s, nonce, tip_gwei);
    };
    const SenderState rich{0, U256(1'000'000)};
    ASSERT_TRUE(pool.add(mk(addr(1), 0, 1), rich).has_value());
    ASSERT_TRUE(pool.add(mk(addr(1), 1, 50), rich).has_value());
    ASSERT_TRUE(pool.add(mk(addr(2), 0, 5), rich).has_value());
    ASSERT_TRUE(pool.add(mk(addr(3), 0, 3), rich).has_value());
    const auto picked = pool.select(U256(kGwei), 30'000'000, 100);
    ASSERT_EQ(picked.size(), 4U);
    EXPECT_EQ(picked[0]->sender, addr(2));
    EXPECT_EQ(picked[1]->sender, addr(3));
    EXPECT_EQ(picked[2]->sender, addr(1));
    EXPECT_EQ(picked[2]->txn.nonce, 0U);
    EXPECT_EQ(picked[3]->txn.nonce, 1U);
    // Gas limit: only two fit.
    EXPECT_EQ(pool.select(U256(kGwei), 42'000, 100).size(), 2U);
    // A fee cap below the base fee is not selected.
    EXPECT_TRUE(pool.select(U256(200 * kGwei), 30'000'000, 100).empty());
    // After a block that mined sender 1's nonce 0, its nonce 1 is still pending.
    pool.on_block({picked[2]->hash}, {{addr(1), 1}});
    EXPECT_EQ(pool.pending_count(), 3U);
    EXPECT_EQ(pool.pending_nonce(addr(1), 1), 2U);
    pool.remove(picked[3]->hash);
    EXPECT_EQ(pool.pending_nonce(addr(1), 1), 1U);
    EXPECT_EQ(pool.size(), 2U);
}

// A sender's next transaction checked against the head before a block and added after the
// block's on_block emptied the sender's queue: with the head's nonce (stale by then) it would
// stay queued behind a nonce already mined, and automine would never include it. add_at refuses
// an account read before the last on_block, so the node reads the head again.
TEST(Mempool, add_at_refuses_an_account_read_before_the_last_block) {
    Mempool pool(MempoolLimits{});
    const auto mk = [](uint64_t nonce) { return pool_txn(addr(1), nonce); };
    const uint64_t before = pool.epoch();
    auto first = pool.add_at(mk(0), SenderState{0, U256(1'000'000)}, before);
    ASSERT_TRUE(first.has_value() && first->has_value());
    EXPECT_TRUE((*first)->pending);
    // Nonce 0 is mined; the sender's queue is now empty.
    pool.on_block({mk(0)->hash}, {{addr(1), 1}});
    EXPECT_EQ(pool.size(), 0U);
    EXPECT_NE(pool.epoch(), before);
    // Nonce 1 checked against the old head (account nonce 0): refused as stale, nothing added.
    auto stale = pool.add_at(mk(1), SenderState{0, U256(1'000'000)}, before);
    ASSERT_TRUE(stale.has_value());
    EXPECT_FALSE(stale->has_value());
    EXPECT_EQ(pool.size(), 0U);
    // Against the new head it is pending at once.
    auto fresh = pool.add_at(mk(1), SenderState{1, U256(1'000'000)}, pool.epoch());
    ASSERT_TRUE(fresh.has_value() && fresh->has_value());
    EXPECT_TRUE((*fresh)->pending);
    EXPECT_EQ(pool.pending_count(), 1U);
    // Errors still come through add_at.
    auto known = pool.add_at(mk(1), SenderState{1, U256(1'000'000)}, pool.epoch());
    ASSERT_FALSE(known.has_value());
    EXPECT_EQ(known.error().message, "already known");
}

// evm_revert empties the pool: every transaction and count goes, and an admission checked against
// the head before it is refused as stale (clear counts as a block for add_at).
TEST(Mempool, clear_empties_the_pool_and_moves_the_epoch) {
    Mempool pool(MempoolLimits{});
    const auto mk = [](uint64_t sender, uint64_t nonce) {
        return pool_txn(addr(static_cast<uint8_t>(sender)), nonce);
    };
    ASSERT_TRUE(pool.add(mk(1, 0), SenderState{0, U256(1'000'000)}).has_value());
    ASSERT_TRUE(pool.add(mk(1, 2), SenderState{0, U256(1'000'000)}).has_value());  // queued
    ASSERT_TRUE(pool.add(mk(2, 5), SenderState{5, U256(1'000'000)}).has_value());
    EXPECT_EQ(pool.size(), 3U);
    const uint64_t before = pool.epoch();
    pool.clear();
    EXPECT_EQ(pool.size(), 0U);
    EXPECT_EQ(pool.pending_count(), 0U);
    EXPECT_FALSE(pool.contains(mk(1, 0)->hash));
    EXPECT_TRUE(pool.content().pending.empty() && pool.content().queued.empty());
    EXPECT_NE(pool.epoch(), before);
    auto stale = pool.add_at(mk(1, 0), SenderState{0, U256(1'000'000)}, before);
    ASSERT_TRUE(stale.has_value());
    EXPECT_FALSE(stale->has_value());
    // The same transactions are admitted again afterwards (the head went back).
    auto again = pool.add_at(mk(1, 0), SenderState{0, U256(1'000'000)}, pool.epoch());
    ASSERT_TRUE(again.has_value() && again->has_value());
    EXPECT_TRUE((*again)->pending);
}

}  // namespace
}  // namespace pel::node
