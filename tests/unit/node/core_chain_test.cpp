// SPDX-License-Identifier: Apache-2.0
// Block production, chain records, restart, eth_call/estimateGas, logs and subscriptions.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "execution/host.hpp"
#include "node/chain.hpp"
#include "node/dev_accounts.hpp"
#include "node/genesis.hpp"
#include "node/pool_journal.hpp"
#include "primitives/hex.hpp"
#include "primitives/keccak.hpp"
#include "primitives/rlp.hpp"
#include "state/state_view.hpp"
#include "state/trie.hpp"
#include "tests/unit/node/core_test_util.hpp"

namespace pel::node {
namespace {

using test::addr;
using test::eth;
using test::kGwei;
using test::make_txn;
using test::raw;
using test::TempDir;

// Runtime code: revert with Error("nope").
Bytes reverter_code() {
    Bytes code = *from_hex("0x6064600c60003960646000fd");
    Bytes data = *from_hex("0x08c379a0");
    Bytes word(32, 0);
    word[31] = 0x20;
    append(data, word);
    word[31] = 4;
    append(data, word);
    Bytes text(32, 0);
    text[0] = 'n';
    text[1] = 'o';
    text[2] = 'p';
    text[3] = 'e';
    append(data, text);
    append(code, data);
    return code;
}

const Hash32 kTopic = keccak256(as_bytes("Ping()"));

// Runtime code: LOG1(kTopic) with empty data, then SSTORE(0, 1).
Bytes logger_code() {
    Bytes code{0x7f};
    append(code, kTopic.view());
    append(code, *from_hex("0x60006000a16001600055"
                           "00"));
    return code;
}

// Runtime code: return 32 bytes holding 42.
Bytes returner_code() { return *from_hex("0x602a60005260206000f3"); }

// Runtime code: return BLOCKHASH(NUMBER - 1) and store it in slot 0.
Bytes blockhash_code() {
    return *from_hex(
        "0x600143034080600055600052"
        "60206000f3");
}

const Address kBlockHasher = *Address::from_hex("0x00000000000000000000000000000000000000c4");
const Address kReverter = *Address::from_hex("0x00000000000000000000000000000000000000c1");
const Address kLogger = *Address::from_hex("0x00000000000000000000000000000000000000c2");
const Address kReturner = *Address::from_hex("0x00000000000000000000000000000000000000c3");

std::string genesis_json(const std::vector<DevAccount>& dev) {
    std::ostringstream out;
    out << R"({"config": {"chainId": 31337}, "gasLimit": "30000000", "alloc": {)";
    for (const DevAccount& a : dev) {
        out << '"' << a.address.to_hex() << R"(": {"balance": ")" << dev_account_balance().to_hex()
            << R"("},)";
    }
    out << '"' << kReverter.to_hex() << R"(": {"code": ")" << to_hex(reverter_code()) << R"("},)";
    out << '"' << kLogger.to_hex() << R"(": {"code": ")" << to_hex(logger_code()) << R"("},)";
    out << '"' << kReturner.to_hex() << R"(": {"code": ")" << to_hex(returner_code()) << R"("},)";
    out << '"' << kBlockHasher.to_hex() << R"(": {"code": ")" << to_hex(blockhash_code())
        << R"("}}})";
    return out.str();
}

/// The receipts root recomputed here from the receipt records, with its own RLP and the general
/// trie_root (not the node's encode_receipt / ordered_trie_root).
Hash32 independent_receipts_root(const std::vector<ReceiptRecord>& receipts) {
    std::vector<std::pair<Bytes, Bytes>> entries;
    for (size_t i = 0; i < receipts.size(); ++i) {
        const ReceiptRecord& r = receipts[i];
        Bytes logs;
        Bloom bloom{};
        const auto add_bloom = [&](ByteView v) {
            const Hash32 h = keccak256(v);
            for (size_t k = 0; k < 6; k += 2) {
                const unsigned bit = ((unsigned{h.bytes[k]} << 8) | h.bytes[k + 1]) & 2047U;
                bloom[255 - bit / 8] =
                    static_cast<uint8_t>(bloom[255 - bit / 8] | (1U << (bit % 8)));
            }
        };
        for (const LogRecord& l : r.logs) {
            Bytes item;
            rlp::encode_bytes(item, l.address.view());
            add_bloom(l.address.view());
            Bytes topics;
            for (const Hash32& t : l.topics) {
                rlp::encode_bytes(topics, t.view());
                add_bloom(t.view());
            }
            rlp::encode_list(item, topics);
            rlp::encode_bytes(item, l.data);
            rlp::encode_list(logs, item);
        }
        EXPECT_EQ(bloom, r.logs_bloom);
        Bytes payload;
        rlp::encode_uint(payload, uint64_t{r.status ? 1U : 0U});
        rlp::encode_uint(payload, r.cumulative_gas_used);
        rlp::encode_bytes(payload, ByteView(bloom.data(), bloom.size()));
        rlp::encode_list(payload, logs);
        Bytes value;
        if (r.type != TxnType::kLegacy) {
            value.push_back(static_cast<uint8_t>(r.type));
        }
        rlp::encode_list(value, payload);
        Bytes key;
        rlp::encode_uint(key, uint64_t{i});
        entries.emplace_back(std::move(key), std::move(value));
    }
    return state::trie_root(std::move(entries));
}

class ChainTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto dev = derive_dev_accounts(kDevMnemonic, 3);
        ASSERT_TRUE(dev.has_value());
        dev_ = *dev;
        genesis_file_ = (dir_.path() / "genesis.json").string();
        std::ofstream(genesis_file_) << genesis_json(dev_);
        reopen();
    }
    NodeConfig config() const {
        NodeConfig c = test::dev_config(dir_);
        c.datadir = (dir_.path() / "data").string();
        c.genesis_path = genesis_file_;
        return c;
    }
    void reopen() {
        node_.reset();
        node_ = test::open_node(config());
        ASSERT_TRUE(node_);
    }
    Hash32 submit(const Transaction& t) {
        auto r = node_->submit_raw_transaction(raw(t));
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
        return r ? *r : Hash32{};
    }
    uint64_t mine() {
        auto n = node_->test_mine_block();
        EXPECT_TRUE(n.has_value()) << (n ? "" : n.error().message);
        return n ? *n : 0;
    }
    ReceiptRecord receipt(const Hash32& h) {
        auto r = node_->receipt_by_hash(h);
        EXPECT_TRUE(r.has_value() && r->has_value());
        return r && *r ? **r : ReceiptRecord{};
    }
    BlockRecord block(uint64_t n) {
        auto b = node_->block_by_number(BlockSelector::at(n));
        EXPECT_TRUE(b.has_value() && b->has_value());
        return b && *b ? **b : BlockRecord{};
    }

    TempDir dir_;
    std::vector<DevAccount> dev_;
    std::string genesis_file_;
    std::unique_ptr<Node> node_;
};

TEST(ChainCodec, stored_receipts_drop_the_bloom_and_decode_it_again) {
    StoredReceipt r;
    r.type = TxnType::kDynamicFee;
    r.status = true;
    r.cumulative_gas_used = 123456;
    exec::Log a;
    a.address = addr(0x42);
    a.topics = {
        Hash32::from_hex("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
            .value(),
        Hash32{}};
    a.data = Bytes(32, 0x07);
    exec::Log b;
    b.address = addr(0x43);
    r.logs = {a, b};
    r.bloom = exec::logs_bloom(r.logs);

    const Bytes full = encode_receipt(r);
    const Bytes stored = encode_stored_receipt(r);
    // The bloom's 256 bytes and its 3-byte RLP header leave; the list's own header may shrink.
    EXPECT_GE(full.size(), stored.size() + 256 + 3);
    EXPECT_LE(full.size(), stored.size() + 256 + 3 + 2);
    auto back = decode_stored_receipt(stored);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(back->type, r.type);
    EXPECT_EQ(back->status, r.status);
    EXPECT_EQ(back->cumulative_gas_used, r.cumulative_gas_used);
    EXPECT_EQ(back->logs, r.logs);
    EXPECT_EQ(back->bloom, r.bloom);
    EXPECT_NE(back->bloom, Bloom{});
    EXPECT_EQ(encode_receipt(*back), full);

    // A failed legacy receipt without logs: an empty bloom.
    StoredReceipt failed;
    failed.cumulative_gas_used = 21000;
    auto f = decode_stored_receipt(encode_stored_receipt(failed));
    ASSERT_TRUE(f.has_value()) << f.error().message;
    EXPECT_FALSE(f->status);
    EXPECT_EQ(f->bloom, Bloom{});

    // The consensus encoding (with its bloom), truncated or extended records, an unknown type.
    EXPECT_FALSE(decode_stored_receipt(full).has_value());
    EXPECT_FALSE(decode_stored_receipt(ByteView(stored).first(stored.size() - 1)).has_value());
    Bytes longer = stored;
    longer.push_back(0x80);
    EXPECT_FALSE(decode_stored_receipt(longer).has_value());
    Bytes typed = stored;
    typed[0] = 0x05;
    EXPECT_FALSE(decode_stored_receipt(typed).has_value());
    EXPECT_FALSE(decode_stored_receipt({}).has_value());
    // A legacy receipt behind a type byte 0 (found by pel_block_fuzz: it re-encoded without it).
    Bytes zero_typed{0x00};
    const Bytes legacy = encode_stored_receipt(failed);
    zero_typed.insert(zero_typed.end(), legacy.begin(), legacy.end());
    EXPECT_FALSE(decode_stored_receipt(zero_typed).has_value());
}

// Bodies are read back from the database: strict, so that a damaged record is found rather than
// half read (found by pel_block_fuzz: items after the senders list were ignored).
TEST(ChainRecords, body_round_trips_and_rejects_extra_items) {
    StoredBody b;
    b.txns = {Bytes{0x01, 0x02}};
    b.senders = {addr(0x11)};
    const Bytes enc = encode_body(b);
    auto back = decode_body(enc);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(back->txns, b.txns);
    EXPECT_EQ(back->senders, b.senders);
    EXPECT_EQ(encode_body(*back), enc);

    // rlp([txs, senders, extra]): the outer list's header grows by the extra item (0x80).
    ASSERT_LT(enc.size(), 56U);
    Bytes extra_item(enc.begin() + 1, enc.end());
    extra_item.push_back(0x80);
    extra_item.insert(extra_item.begin(), static_cast<uint8_t>(0xc0 + extra_item.size()));
    EXPECT_FALSE(decode_body(extra_item).has_value());
    // Bytes after the list.
    Bytes trailing = enc;
    trailing.push_back(0x80);
    EXPECT_FALSE(decode_body(trailing).has_value());
    // A sender short of a transaction.
    StoredBody short_senders = b;
    short_senders.senders.pop_back();
    EXPECT_FALSE(decode_body(encode_body(short_senders)).has_value());
}

// The conflict report record is JSON read back from the database: its counters must be unsigned
// integers (found by pel_block_fuzz: a count of 7.8e43 went through nlohmann's get<uint64_t>,
// an undefined float-to-integer conversion).
TEST(ChainRecords, conflict_report_round_trips_and_refuses_bad_counters) {
    BlockConflictReport r;
    r.block_number = 7;
    r.block_hash = Hash32::from_hex("0x" + std::string(64, 'a')).value();
    r.txs = 10;
    r.gas_used = 252'000;
    r.executions = 12;
    r.re_executions = 2;
    r.validations = 14;
    r.aborts = 1;
    r.fallback = "sequential after contention";
    r.fallback_from = 4;
    r.execution_ms = 1.25;
    r.commit_ms = 2.5;
    r.threads = 2;
    r.top_conflicts.push_back(ConflictLocation{addr(0x11), U256(5), 3});
    r.top_conflicts.push_back(ConflictLocation{addr(0x22), std::nullopt, 1});
    const std::string text = encode_conflict_report(r);
    const auto as_bytes = [](const std::string& t) {
        return ByteView{reinterpret_cast<const uint8_t*>(t.data()), t.size()};
    };
    auto back = decode_conflict_report(as_bytes(text));
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(encode_conflict_report(*back), text);
    EXPECT_EQ(back->top_conflicts.size(), 2U);
    EXPECT_EQ(back->fallback, r.fallback);

    const auto with = [&](const std::string& from, const std::string& to) {
        std::string t = text;
        const size_t at = t.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return t.replace(at, from.size(), to);
    };
    for (const std::string& bad :
         {with("\"txs\":10", "\"txs\":7.8e43"), with("\"txs\":10", "\"txs\":-1"),
          with("\"txs\":10", "\"txs\":1.5"), with("\"n\":7", "\"n\":\"7\""),
          with("\"c\":3", "\"c\":1e300"), with("\"thr\":2", "\"thr\":null"),
          with("\"top\":[", "\"top\":[1,")}) {
        const auto r2 = decode_conflict_report(as_bytes(bad));
        EXPECT_FALSE(r2.has_value()) << bad;
        if (!r2) {
            EXPECT_NE(r2.error().message.find("conflict report"), std::string::npos);
        }
    }
}

TEST_F(ChainTest, produced_block_roots_receipts_and_records) {
    const Hash32 t0 = submit(make_txn(dev_[0].secret_key, 0, addr(7), eth(1)));
    const Hash32 t1 = submit(make_txn(dev_[1].secret_key, 0, kLogger, U256(0), 100'000, {}));
    const Hash32 t2 = submit(make_txn(dev_[2].secret_key, 0, kReverter, U256(0), 100'000));
    const Hash32 t3 = submit(make_txn(dev_[0].secret_key, 1, addr(7), eth(2)));
    EXPECT_EQ(mine(), 1U);
    const BlockRecord b = block(1);
    ASSERT_EQ(b.transactions.size(), 4U);
    EXPECT_EQ(b.hash, keccak256(encode_header(b.header)));
    EXPECT_EQ(b.header.parent_hash, node_->genesis_hash());
    EXPECT_EQ(b.header.number, 1U);
    EXPECT_EQ(b.header.ommers_hash, kEmptyOmmersHash);
    EXPECT_EQ(b.header.withdrawals_root, kEmptyTrieRoot);
    EXPECT_EQ(node_->head().hash, b.hash);

    std::vector<ReceiptRecord> receipts;
    std::vector<std::pair<Bytes, Bytes>> txs;
    uint64_t gas = 0;
    for (size_t i = 0; i < b.transactions.size(); ++i) {
        const TxRecord& t = b.transactions[i];
        receipts.push_back(receipt(t.hash));
        EXPECT_EQ(receipts.back().tx_index, i);
        EXPECT_EQ(receipts.back().block_hash, b.hash);
        gas += receipts.back().gas_used;
        EXPECT_EQ(receipts.back().cumulative_gas_used, gas);
        Bytes key;
        rlp::encode_uint(key, uint64_t{i});
        txs.emplace_back(std::move(key), raw(t.txn));
    }
    EXPECT_EQ(b.header.gas_used, gas);
    EXPECT_EQ(b.header.receipts_root, independent_receipts_root(receipts));
    EXPECT_EQ(b.header.transactions_root, state::trie_root(std::move(txs)));

    const ReceiptRecord r0 = receipt(t0);
    EXPECT_TRUE(r0.status);
    EXPECT_EQ(r0.gas_used, 21000U);
    EXPECT_EQ(r0.from, dev_[0].address);
    EXPECT_EQ(r0.effective_gas_price, b.header.base_fee_per_gas + U256(kGwei));
    const ReceiptRecord r1 = receipt(t1);
    EXPECT_TRUE(r1.status);
    ASSERT_EQ(r1.logs.size(), 1U);
    EXPECT_EQ(r1.logs[0].address, kLogger);
    EXPECT_EQ(r1.logs[0].topics, std::vector<Hash32>{kTopic});
    EXPECT_EQ(r1.logs[0].tx_hash, t1);
    EXPECT_FALSE(receipt(t2).status);
    EXPECT_TRUE(receipt(t3).status);
    EXPECT_EQ(*node_->balance(addr(7), BlockSelector::latest()), eth(3));
    EXPECT_EQ(*node_->nonce(dev_[0].address, BlockSelector::latest()), 2U);

    auto mined = node_->transaction_by_hash(t3);
    ASSERT_TRUE(mined.has_value() && mined->has_value());
    EXPECT_EQ((*mined)->block_hash, b.hash);
    EXPECT_EQ((*mined)->block_number, 1U);
    auto by_hash = node_->block_by_hash(b.hash);
    ASSERT_TRUE(by_hash.has_value() && by_hash->has_value());
    EXPECT_EQ((*by_hash)->header, b.header);

    // Base fee: the genesis had 1 gwei; the next block's follows EIP-1559.
    EXPECT_EQ(b.header.base_fee_per_gas, next_base_fee(block(0).header));
    mine();
    const BlockRecord b2 = block(2);
    EXPECT_EQ(b2.header.parent_hash, b.hash);
    EXPECT_GT(b2.header.timestamp, b.header.timestamp);
    EXPECT_EQ(b2.header.base_fee_per_gas, next_base_fee(b.header));
    EXPECT_EQ(b2.header.receipts_root, kEmptyTrieRoot);

    auto report = node_->conflict_report(BlockSelector::at(1));
    ASSERT_TRUE(report.has_value() && report->has_value());
    EXPECT_EQ((*report)->txs, 4U);
    EXPECT_EQ((*report)->block_hash, b.hash);
    EXPECT_GE((*report)->executions, 4U);
    EXPECT_GT((*report)->commit_ms, 0.0);
    EXPECT_EQ((*report)->threads, 2U);

    // Logs.
    LogFilter f;
    f.from_block = BlockSelector::at(0);
    f.to_block = BlockSelector::latest();
    f.addresses = {kLogger};
    f.topics = {{kTopic}};
    auto logs = node_->logs(f);
    ASSERT_TRUE(logs.has_value());
    ASSERT_EQ(logs->size(), 1U);
    EXPECT_EQ((*logs)[0].block_hash, b.hash);
    EXPECT_EQ((*logs)[0].log_index, 0U);
    f.topics = {{}, {kTopic}};  // a second topic the log does not have
    EXPECT_TRUE(node_->logs(f)->empty());
    f.topics = {{keccak256(as_bytes("x")), kTopic}};  // OR
    EXPECT_EQ(node_->logs(f)->size(), 1U);
    f.addresses = {kReverter};
    f.topics = {};
    EXPECT_TRUE(node_->logs(f)->empty());
    LogFilter by_block;
    by_block.block_hash = b.hash;
    EXPECT_EQ(node_->logs(by_block)->size(), 1U);

    // Block 1 is below the head now: read from the old values kept (--history.state), which are
    // stored with the blocks and so survive a restart.
    auto old = node_->balance(addr(7), BlockSelector::at(1));
    ASSERT_TRUE(old.has_value()) << old.error().message;
    EXPECT_EQ(*old, eth(3));
    EXPECT_TRUE(node_->balance(addr(7), BlockSelector::at(0))->is_zero());
    reopen();
    old = node_->balance(addr(7), BlockSelector::at(1));
    ASSERT_TRUE(old.has_value()) << old.error().message;
    EXPECT_EQ(*old, eth(3));
    EXPECT_TRUE(node_->balance(addr(7), BlockSelector::at(0))->is_zero());
    auto future = node_->balance(addr(7), BlockSelector::at(99));
    ASSERT_FALSE(future.has_value());
    EXPECT_EQ(future.error().message, "header not found");
    EXPECT_FALSE(node_->block_by_number(BlockSelector::at(99))->has_value());
}

TEST_F(ChainTest, restart_resumes_at_the_head_with_records_intact) {
    const Hash32 t0 = submit(make_txn(dev_[0].secret_key, 0, kLogger, U256(5), 100'000));
    mine();
    submit(make_txn(dev_[1].secret_key, 0, addr(9), eth(1)));
    mine();
    mine();
    const auto head = node_->head();
    const BlockRecord b1 = block(1);
    const ReceiptRecord r0 = receipt(t0);
    const U256 bal = *node_->balance(addr(9), BlockSelector::latest());
    reopen();
    EXPECT_EQ(node_->head().number, head.number);
    EXPECT_EQ(node_->head().hash, head.hash);
    EXPECT_EQ(block(1).hash, b1.hash);
    EXPECT_EQ(block(1).header, b1.header);
    const ReceiptRecord again = receipt(t0);
    EXPECT_EQ(again.block_hash, r0.block_hash);
    EXPECT_EQ(again.logs.size(), 1U);
    EXPECT_EQ(*node_->balance(addr(9), BlockSelector::latest()), bal);
    EXPECT_EQ(U256::from_hash(*node_->storage_at(kLogger, U256(0), BlockSelector::latest())),
              U256(1));
    // The chain goes on from there.
    submit(make_txn(dev_[0].secret_key, 1, addr(9), eth(1)));
    EXPECT_EQ(mine(), head.number + 1);
    EXPECT_EQ(block(head.number + 1).header.parent_hash, head.hash);
    EXPECT_EQ(*node_->balance(addr(9), BlockSelector::latest()), bal + eth(1));
    // Blocks before the restart are still found by hash.
    EXPECT_TRUE(node_->block_by_hash(head.hash)->has_value());
}

TEST_F(ChainTest, pool_survives_a_restart_through_the_journal) {
    const Hash32 p0 = submit(make_txn(dev_[0].secret_key, 0, addr(9), eth(1)));
    const Hash32 p1 = submit(make_txn(dev_[0].secret_key, 1, addr(9), eth(2)));
    const Hash32 q3 = submit(make_txn(dev_[1].secret_key, 3, addr(9), eth(4)));  // nonce gap
    ASSERT_EQ(node_->metrics().mempool_pending, 2U);
    ASSERT_EQ(node_->metrics().mempool_queued, 1U);
    const auto journal = dir_.path() / "data" / kPoolJournalFile;
    node_.reset();
    ASSERT_TRUE(std::filesystem::exists(journal));
    reopen();
    EXPECT_FALSE(std::filesystem::exists(journal));  // consumed
    EXPECT_EQ(node_->metrics().mempool_pending, 2U);
    EXPECT_EQ(node_->metrics().mempool_queued, 1U);
    for (const Hash32& h : {p0, p1, q3}) {
        auto t = node_->transaction_by_hash(h);
        ASSERT_TRUE(t.has_value() && t->has_value()) << h.to_hex();
    }
    EXPECT_EQ(*node_->nonce(dev_[0].address, BlockSelector{BlockTag::kPending, 0}), 2U);
    mine();
    EXPECT_EQ(*node_->balance(addr(9), BlockSelector::latest()), eth(3));
    EXPECT_EQ(node_->metrics().mempool_queued, 1U);
    // Only what is still in the pool goes to the next journal; what was mined is not re-admitted.
    node_.reset();
    reopen();
    EXPECT_EQ(node_->metrics().mempool_pending, 0U);
    EXPECT_EQ(node_->metrics().mempool_queued, 1U);
    EXPECT_EQ(node_->head().number, 1U);
}

TEST_F(ChainTest, a_blob_transaction_survives_a_restart_with_its_sidecar) {
    const Transaction t = test::blob_txn(dev_[0].secret_key, 0, addr(9), 1);
    const Bytes net = test::zero_blob_network_form(t, 1);
    auto h = node_->submit_raw_transaction(net);
    ASSERT_TRUE(h.has_value()) << h.error().message;
    node_.reset();
    // The journal holds the network form: admission checks the sidecar again.
    auto journal = read_pool_journal(dir_.path() / "data" / kPoolJournalFile);
    ASSERT_TRUE(journal.has_value() && journal->has_value());
    ASSERT_EQ((*journal)->size(), 1U);
    EXPECT_EQ((**journal)[0], net);
    reopen();
    auto pending = node_->transaction_by_hash(*h);
    ASSERT_TRUE(pending.has_value() && pending->has_value());
    mine();
    EXPECT_TRUE(receipt(*h).status);
    EXPECT_EQ(block(1).header.blob_gas_used, exec::kGasPerBlob);
}

TEST_F(ChainTest, journal_transactions_no_longer_valid_are_dropped) {
    // A journal written for this chain holding one transaction that is valid and one whose nonce
    // was mined in the meantime (here: the same nonce, mined before the journal is read).
    const Transaction stale = make_txn(dev_[0].secret_key, 0, addr(9), eth(1));
    const Transaction fresh = make_txn(dev_[1].secret_key, 0, addr(9), eth(2));
    submit(stale);
    mine();
    node_.reset();
    const auto journal = dir_.path() / "data" / kPoolJournalFile;
    ASSERT_FALSE(std::filesystem::exists(journal));  // empty pool: no journal
    const std::vector<Bytes> raws{raw(stale), raw(fresh)};
    ASSERT_TRUE(write_pool_journal(journal, raws).has_value());
    reopen();
    EXPECT_EQ(node_->metrics().mempool_pending, 1U);
    EXPECT_FALSE(std::filesystem::exists(journal));
    EXPECT_EQ(*node_->nonce(dev_[1].address, BlockSelector{BlockTag::kPending, 0}), 1U);
}

TEST_F(ChainTest, corrupt_journal_is_set_aside_and_the_node_opens) {
    submit(make_txn(dev_[0].secret_key, 0, addr(9), eth(1)));
    node_.reset();
    const auto journal = dir_.path() / "data" / kPoolJournalFile;
    ASSERT_TRUE(std::filesystem::exists(journal));
    std::filesystem::resize_file(journal, std::filesystem::file_size(journal) - 1);  // torn
    reopen();
    EXPECT_EQ(node_->metrics().mempool_pending, 0U);
    EXPECT_FALSE(std::filesystem::exists(journal));
    auto bad = journal;
    bad += ".bad";
    EXPECT_TRUE(std::filesystem::exists(bad));
}

TEST(ChainDev, no_journal_when_disabled) {
    TempDir dir;
    NodeConfig c = test::dev_config(dir);
    c.txpool_journal = false;
    auto dev = derive_dev_accounts(kDevMnemonic, 1);
    ASSERT_TRUE(dev.has_value());
    {
        auto node = test::open_node(c);
        ASSERT_TRUE(node);
        ASSERT_TRUE(
            node->submit_raw_transaction(raw(make_txn((*dev)[0].secret_key, 0, addr(9), eth(1))))
                .has_value());
    }
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(c.datadir) / kPoolJournalFile));
    auto node = test::open_node(c);
    ASSERT_TRUE(node);
    EXPECT_EQ(node->metrics().mempool_pending, 0U);
}

TEST_F(ChainTest, datadir_whose_state_is_ahead_of_its_chain_records_is_refused) {
    mine();
    node_.reset();
    {
        state::StateStoreOptions so;
        so.sync = false;
        auto store = state::StateStore::open((dir_.path() / "data" / "chaindata").string(), so);
        ASSERT_TRUE(store.has_value()) << store.error().message;
        // A block committed behind the node's back: state but no chain records.
        ASSERT_TRUE((*store)->commit(2, state::StateDiff{}).has_value());
    }
    auto refused = Node::open(config());
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message.find("no header record for head block 2"), std::string::npos)
        << refused.error().message;
}

TEST_F(ChainTest, block_is_produced_without_a_transaction_that_became_invalid) {
    // Each fits the balance alone (the pool checks them one at a time); together they do not.
    const Hash32 a = submit(make_txn(dev_[0].secret_key, 0, addr(1), eth(9'000)));
    const Hash32 b = submit(make_txn(dev_[0].secret_key, 1, addr(2), eth(5'000)));
    const Hash32 c = submit(make_txn(dev_[1].secret_key, 0, addr(3), eth(1)));
    EXPECT_EQ(mine(), 1U);
    const BlockRecord blk = block(1);
    ASSERT_EQ(blk.transactions.size(), 2U);
    EXPECT_TRUE(receipt(a).status);
    EXPECT_TRUE(receipt(c).status);
    auto gone = node_->transaction_by_hash(b);
    ASSERT_TRUE(gone.has_value());
    EXPECT_FALSE(gone->has_value());
    EXPECT_EQ(node_->metrics().mempool_pending, 0U);
    EXPECT_EQ(*node_->balance(addr(2), BlockSelector::latest()), U256(0));
}

TEST_F(ChainTest, eth_call_returns_output_and_revert_data) {
    CallRequest req;
    req.to = kReturner;
    auto r = node_->call(req, BlockSelector::latest());
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_TRUE(r->success);
    Bytes want(32, 0);
    want[31] = 42;
    EXPECT_EQ(r->output, want);

    req.to = kReverter;
    auto rev = node_->call(req, BlockSelector::latest());
    ASSERT_TRUE(rev.has_value());
    EXPECT_FALSE(rev->success);
    EXPECT_TRUE(rev->reverted);
    EXPECT_EQ(rev->error, "execution reverted: nope");
    const Bytes code = reverter_code();
    EXPECT_EQ(rev->output, Bytes(code.begin() + 12, code.end()));

    auto est = node_->estimate_gas(req, BlockSelector::latest());
    ASSERT_FALSE(est.has_value());
    EXPECT_EQ(est.error().kind, ApiErrorKind::kReverted);
    EXPECT_EQ(rpc_error_code(est.error().kind), 3);
    EXPECT_EQ(est.error().message, "execution reverted: nope");
    EXPECT_EQ(est.error().data, rev->output);

    // A plain transfer estimates at 21000; a contract call within 1.5% above what it needs.
    CallRequest transfer;
    transfer.from = dev_[0].address;
    transfer.to = addr(5);
    transfer.value = eth(1);
    auto g = node_->estimate_gas(transfer, BlockSelector::latest());
    ASSERT_TRUE(g.has_value()) << g.error().message;
    EXPECT_EQ(*g, 21000U);
    CallRequest logcall;
    logcall.from = dev_[0].address;
    logcall.to = kLogger;
    auto lg = node_->estimate_gas(logcall, BlockSelector::latest());
    ASSERT_TRUE(lg.has_value()) << lg.error().message;
    logcall.gas = *lg;
    EXPECT_TRUE(node_->call(logcall, BlockSelector::latest())->success);
    logcall.gas = *lg * 97 / 100;
    EXPECT_FALSE(node_->call(logcall, BlockSelector::latest())->success);

    // Value beyond the balance cannot start.
    CallRequest poor;
    poor.from = addr(77);
    poor.to = addr(5);
    poor.value = U256(1);
    auto p = node_->call(poor, BlockSelector::latest());
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().kind, ApiErrorKind::kRejected);
    // Nothing was committed by any of this.
    EXPECT_EQ(node_->head().number, 0U);
    EXPECT_EQ(U256::from_hash(*node_->storage_at(kLogger, U256(0), BlockSelector::latest())),
              U256(0));
}

TEST_F(ChainTest, blockhash_of_recent_blocks_in_blocks_and_calls) {
    mine();
    const Hash32 h1 = node_->head().hash;
    mine();
    const Hash32 h2 = node_->head().hash;
    const auto as_bytes32 = [](const Hash32& h) { return Bytes(h.bytes.begin(), h.bytes.end()); };
    // BLOCKHASH(NUMBER - 1) in a call: at "latest" the call runs in block 2 itself (as geth and
    // anvil run it), at "pending" in the block after it.
    CallRequest req;
    req.to = kBlockHasher;
    auto r = node_->call(req, BlockSelector::latest());
    ASSERT_TRUE(r.has_value() && r->success);
    EXPECT_EQ(r->output, as_bytes32(h1));
    r = node_->call(req, BlockSelector{BlockTag::kPending, 0});
    ASSERT_TRUE(r.has_value() && r->success);
    EXPECT_EQ(r->output, as_bytes32(h2));
    const Hash32 t = submit(make_txn(dev_[0].secret_key, 0, kBlockHasher, U256(0), 100'000));
    EXPECT_EQ(mine(), 3U);
    EXPECT_TRUE(receipt(t).status);
    EXPECT_EQ(*node_->storage_at(kBlockHasher, U256(0), BlockSelector::latest()), h2);
    // After a restart the window is rebuilt from the stored headers.
    reopen();
    auto again = node_->call(req, BlockSelector::latest());
    ASSERT_TRUE(again.has_value() && again->success);
    EXPECT_EQ(again->output, as_bytes32(h2));
}

// Genesis accounts that a zero-value call removes (EIP-161: empty), one of them with storage.
const Address kEmptyAcct = *Address::from_hex("0x00000000000000000000000000000000000000e1");
const Address kStorageOnly = *Address::from_hex("0x00000000000000000000000000000000000000e2");

// Init code: SSTORE(5, 9), then deploy returner_code().
Bytes deployer_init() {
    Bytes init = *from_hex(
        "0x6009600555600a60116000396"
        "00a6000f3");
    append(init, returner_code());
    return init;
}

class SnapshotTest : public ChainTest {
  protected:
    void SetUp() override {
        ChainTest::SetUp();
        std::string g = genesis_json(dev_);
        g.resize(g.size() - 2);  // reopen the alloc object
        g += R"(,")" + kEmptyAcct.to_hex() + R"(": {"balance": "0x0"},")" + kStorageOnly.to_hex() +
             R"(": {"balance": "0x0", "storage": {"0x01": "0x05", "0x02": "0x07"}}}})";
        node_.reset();
        std::filesystem::remove_all(dir_.path() / "data");
        std::ofstream(genesis_file_, std::ios::trunc) << g;
        reopen();
    }
    Hash32 root(uint64_t n) { return block(n).header.state_root; }
    U256 slot(const Address& a, uint64_t k) {
        auto v = node_->storage_at(a, U256(k), BlockSelector::latest());
        EXPECT_TRUE(v.has_value());
        return v ? U256::from_be32(v->bytes.data()) : U256{};
    }
    /// Whether `a` is in the state trie (an empty account and an absent one read the same
    /// otherwise): the last node of an inclusion proof is the leaf holding the rest of
    /// keccak(a)'s path, whose hex-prefix encoding keeps the key's last bytes as they are.
    bool exists(const Address& a) {
        auto p = node_->account_proof(a, {}, BlockSelector::latest());
        EXPECT_TRUE(p.has_value());
        if (!p || p->account_proof.empty()) {
            return false;
        }
        const Hash32 key = keccak256(a.view());
        const Bytes& leaf = p->account_proof.back();
        return std::search(leaf.begin(), leaf.end(), key.bytes.end() - 16, key.bytes.end()) !=
               leaf.end();
    }
};

TEST_F(SnapshotTest, revert_takes_state_blocks_records_and_clock_back) {
    ASSERT_TRUE(exists(kEmptyAcct));
    ASSERT_TRUE(exists(kStorageOnly));
    ASSERT_EQ(slot(kStorageOnly, 1), U256(5));
    const Hash32 genesis_root = root(0);
    auto s1 = node_->snapshot();
    ASSERT_TRUE(s1.has_value());
    EXPECT_EQ(*s1, 1U);

    // Block 1: a transfer and a storage write (with a log).
    submit(make_txn(dev_[0].secret_key, 0, addr(7), eth(1)));
    submit(make_txn(dev_[1].secret_key, 0, kLogger, U256(0), 100'000));
    ASSERT_EQ(mine(), 1U);
    const Hash32 hash1 = node_->head().hash;
    const Hash32 root1 = root(1);
    const uint64_t ts1 = node_->head().timestamp;
    auto s2 = node_->snapshot();
    ASSERT_TRUE(s2.has_value());
    EXPECT_EQ(*s2, 2U);
    ASSERT_EQ(*node_->increase_time(5000), 5000U);

    // Block 2: a deployment, and both empty accounts removed (one with its storage).
    const Transaction deploy =
        make_txn(dev_[2].secret_key, 0, std::nullopt, U256(0), 200'000, deployer_init());
    const Hash32 deploy_hash = submit(deploy);
    const Hash32 touch1 = submit(make_txn(dev_[0].secret_key, 1, kEmptyAcct, U256(0)));
    submit(make_txn(dev_[0].secret_key, 2, kStorageOnly, U256(0), 30'000));
    ASSERT_EQ(mine(), 2U);
    const ReceiptRecord deployed = receipt(deploy_hash);
    ASSERT_TRUE(deployed.status);
    ASSERT_TRUE(deployed.contract_address.has_value());
    const Address contract = *deployed.contract_address;
    EXPECT_EQ(slot(contract, 5), U256(9));
    EXPECT_FALSE(exists(kEmptyAcct));
    EXPECT_TRUE(slot(kStorageOnly, 1).is_zero());
    EXPECT_GE(node_->head().timestamp, ts1 + 5000);
    // Block 3: the deployed contract's storage is still there; a new account appears.
    submit(make_txn(dev_[1].secret_key, 1, addr(8), eth(3)));
    ASSERT_EQ(mine(), 3U);
    // A transaction left in the pool.
    submit(make_txn(dev_[1].secret_key, 2, addr(8), eth(1)));

    // Back to block 1: the root is block 1's (checked by the node before writing), and so is
    // everything read.
    auto r2 = node_->revert(*s2);
    ASSERT_TRUE(r2.has_value()) << r2.error().message;
    EXPECT_TRUE(*r2);
    EXPECT_EQ(node_->head().number, 1U);
    EXPECT_EQ(node_->head().hash, hash1);
    EXPECT_EQ(root(1), root1);
    EXPECT_TRUE(node_->code(contract, BlockSelector::latest())->empty());
    EXPECT_TRUE(slot(contract, 5).is_zero());
    EXPECT_EQ(slot(kStorageOnly, 1), U256(5));
    EXPECT_EQ(slot(kStorageOnly, 2), U256(7));
    EXPECT_TRUE(exists(kEmptyAcct));
    EXPECT_TRUE(node_->balance(addr(8), BlockSelector::latest())->is_zero());
    EXPECT_EQ(*node_->nonce(dev_[2].address, BlockSelector::latest()), 0U);
    EXPECT_FALSE(node_->receipt_by_hash(deploy_hash)->has_value());
    EXPECT_FALSE(node_->transaction_by_hash(touch1)->has_value());
    EXPECT_FALSE(node_->block_by_number(BlockSelector::at(2))->has_value());
    EXPECT_TRUE(node_->pool_content().pending.empty());
    EXPECT_EQ(*node_->increase_time(0), 0U);  // the clock as at the snapshot
    // Used up: a second revert to it, or to an id never given, changes nothing.
    EXPECT_FALSE(*node_->revert(*s2));
    EXPECT_FALSE(*node_->revert(77));
    EXPECT_EQ(node_->head().number, 1U);

    // The chain goes on from block 1; the reverted deployment can be sent again.
    EXPECT_EQ(submit(deploy), deploy_hash);
    ASSERT_EQ(mine(), 2U);
    EXPECT_EQ(block(2).header.parent_hash, hash1);
    EXPECT_EQ(receipt(deploy_hash).block_number, 2U);
    EXPECT_EQ(slot(contract, 5), U256(9));

    // Back to genesis (snapshot 1 is still there), then a restart: nothing above block 0 is left.
    auto r1 = node_->revert(*s1);
    ASSERT_TRUE(r1.has_value()) << r1.error().message;
    EXPECT_TRUE(*r1);
    EXPECT_EQ(node_->head().number, 0U);
    EXPECT_EQ(root(0), genesis_root);
    reopen();
    EXPECT_EQ(node_->head().number, 0U);
    EXPECT_EQ(node_->head().hash, node_->genesis_hash());
    EXPECT_FALSE(node_->block_by_number(BlockSelector::at(1))->has_value());
    EXPECT_FALSE(node_->receipt_by_hash(deploy_hash)->has_value());
    EXPECT_EQ(slot(kStorageOnly, 2), U256(7));
    EXPECT_TRUE(node_->balance(addr(7), BlockSelector::latest())->is_zero());
    // Snapshots are the process's: after a restart there are none.
    EXPECT_FALSE(*node_->revert(1));
    // A snapshot of the head, reverted at once: true, and nothing changes.
    auto s3 = node_->snapshot();
    ASSERT_TRUE(s3.has_value());
    EXPECT_TRUE(*node_->revert(*s3));
    EXPECT_EQ(node_->head().hash, node_->genesis_hash());
}

// anvil_setBalance and friends: seen at once by reads, calls and admission, with the head block
// unchanged; written by the next block (its root, a restart); undone by evm_revert.
TEST_F(SnapshotTest, dev_account_changes_show_at_once_and_go_into_the_next_block) {
    const auto head0 = node_->head();
    const Hash32 root0 = root(0);
    auto snap = node_->snapshot();
    ASSERT_TRUE(snap.has_value());
    const Address fresh = addr(0x33);
    DevAccountChange c;
    c.balance = eth(50);
    c.nonce = 3;
    ASSERT_TRUE(node_->set_account(fresh, c).has_value());
    DevAccountChange code;
    code.code = returner_code();
    ASSERT_TRUE(node_->set_account(addr(0x34), code).has_value());
    DevAccountChange slots;
    slots.storage = {{U256(1), U256(0)}, {U256(9), U256(77)}};
    ASSERT_TRUE(node_->set_account(kStorageOnly, slots).has_value());
    DevAccountChange rich;
    rich.balance = eth(1'000'000);
    ASSERT_TRUE(node_->set_account(dev_[2].address, rich).has_value());

    EXPECT_EQ(node_->head().hash, head0.hash);
    EXPECT_EQ(root(0), root0);
    EXPECT_EQ(*node_->balance(fresh, BlockSelector::latest()), eth(50));
    EXPECT_EQ(*node_->nonce(fresh, BlockSelector::latest()), 3U);
    EXPECT_EQ(*node_->code(addr(0x34), BlockSelector::latest()), returner_code());
    EXPECT_TRUE(slot(kStorageOnly, 1).is_zero());
    EXPECT_EQ(slot(kStorageOnly, 2), U256(7));
    EXPECT_EQ(slot(kStorageOnly, 9), U256(77));
    CallRequest call;
    call.to = addr(0x34);
    auto out = node_->call(call, BlockSelector::latest());
    ASSERT_TRUE(out.has_value() && out->success);
    EXPECT_EQ(out->output.back(), 42);
    // Admission sees the new balance: more than genesis gave dev account 2.
    const Hash32 big = submit(make_txn(dev_[2].secret_key, 0, addr(9), eth(500'000)));
    ASSERT_EQ(mine(), 1U);
    EXPECT_TRUE(receipt(big).status);
    EXPECT_NE(root(1), root0);

    // In the store now: a restart keeps them (the node checks the head's root at open).
    reopen();
    EXPECT_EQ(*node_->balance(fresh, BlockSelector::latest()), eth(50));
    EXPECT_EQ(*node_->nonce(fresh, BlockSelector::latest()), 3U);
    EXPECT_EQ(*node_->code(addr(0x34), BlockSelector::latest()), returner_code());
    EXPECT_EQ(slot(kStorageOnly, 9), U256(77));
    EXPECT_EQ(*node_->balance(addr(9), BlockSelector::latest()), eth(500'000));

    // Pending changes over a block, then a revert past both: all gone, block 0's root again.
    auto snap2 = node_->snapshot();
    ASSERT_TRUE(snap2.has_value());
    DevAccountChange again;
    again.balance = eth(1);
    again.storage = {{U256(9), U256(78)}};
    ASSERT_TRUE(node_->set_account(kStorageOnly, again).has_value());
    ASSERT_TRUE(node_->mine_block(std::nullopt).has_value());  // an empty block carries them
    EXPECT_EQ(slot(kStorageOnly, 9), U256(78));
    ASSERT_TRUE(node_->set_account(fresh, again).has_value());  // pending at the revert
    EXPECT_TRUE(*node_->revert(*snap2));
    EXPECT_EQ(node_->head().number, 1U);
    EXPECT_EQ(slot(kStorageOnly, 9), U256(77));
    EXPECT_EQ(*node_->balance(fresh, BlockSelector::latest()), eth(50));
}

// anvil_impersonateAccount: eth_sendTransaction from an account whose key the node lacks, a
// contract included (EIP-3607 waived for it), until impersonation stops.
TEST_F(SnapshotTest, impersonated_accounts_send_without_keys) {
    const Address whale = addr(0x41);
    DevAccountChange funds;
    funds.balance = eth(100);
    ASSERT_TRUE(node_->set_account(whale, funds).has_value());
    ASSERT_TRUE(node_->set_account(kLogger, funds).has_value());  // a contract
    CallRequest req;
    req.from = whale;
    req.to = addr(0x42);
    req.value = eth(3);
    auto refused = node_->send_transaction(req);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().message, "unknown account");

    ASSERT_TRUE(node_->impersonate(whale, true).has_value());
    ASSERT_TRUE(node_->impersonate(kLogger, true).has_value());
    auto h1 = node_->send_transaction(req);
    ASSERT_TRUE(h1.has_value()) << h1.error().message;
    req.from = kLogger;
    req.value = eth(2);
    auto h2 = node_->send_transaction(req);
    ASSERT_TRUE(h2.has_value()) << h2.error().message;
    // Signing is still refused: there is no key.
    EXPECT_FALSE(node_->sign_transaction(req).has_value());
    ASSERT_EQ(mine(), 1U);
    const ReceiptRecord r1 = receipt(*h1);
    const ReceiptRecord r2 = receipt(*h2);
    EXPECT_TRUE(r1.status);
    EXPECT_TRUE(r2.status);
    EXPECT_EQ(r1.from, whale);
    EXPECT_EQ(r2.from, kLogger);
    EXPECT_EQ(*node_->balance(addr(0x42), BlockSelector::latest()), eth(5));
    EXPECT_EQ(*node_->nonce(kLogger, BlockSelector::latest()), 1U);
    auto tx = node_->transaction_by_hash(*h1);
    ASSERT_TRUE(tx.has_value() && tx->has_value());
    EXPECT_EQ((*tx)->from, whale);

    ASSERT_TRUE(node_->impersonate(whale, false).has_value());
    req.from = whale;
    auto after = node_->send_transaction(req);
    ASSERT_FALSE(after.has_value());
    EXPECT_EQ(after.error().message, "unknown account");
    // The block with unsigned transactions survives a restart (senders are stored with it).
    reopen();
    EXPECT_EQ(receipt(*h2).from, kLogger);
}

// eth_call state overrides: code, balance, nonce, and storage replaced (state) or patched
// (stateDiff), for that call only.
TEST_F(SnapshotTest, call_state_overrides_apply_to_the_call_only) {
    const auto read_slot = [](uint8_t k) {  // runtime: return SLOAD(k)
        return Bytes{0x60, k, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3};
    };
    const auto call_word = [&](const CallRequest& req) -> U256 {
        auto out = node_->call(req, BlockSelector::latest());
        EXPECT_TRUE(out.has_value() && out->success) << (out ? out->error : out.error().message);
        return out && out->output.size() == 32 ? U256::from_be32(out->output.data()) : U256{};
    };
    CallRequest req;
    req.to = kStorageOnly;  // slots 1 = 5, 2 = 7 in genesis; no code
    AccountOverride code_only;
    code_only.code = read_slot(2);
    req.state_overrides = {{kStorageOnly, code_only}};
    EXPECT_EQ(call_word(req), U256(7));  // its own storage, read by overridden code
    AccountOverride patched = code_only;
    patched.state_diff = {{U256(2), U256(70)}};
    req.state_overrides = {{kStorageOnly, patched}};
    EXPECT_EQ(call_word(req), U256(70));
    AccountOverride replaced = code_only;
    replaced.state = std::vector<std::pair<U256, U256>>{{U256(3), U256(1)}};
    req.state_overrides = {{kStorageOnly, replaced}};
    EXPECT_TRUE(call_word(req).is_zero());  // slot 2 went with the rest
    AccountOverride kept = code_only;
    kept.code = read_slot(1);
    req.state_overrides = {{kStorageOnly, kept}};
    EXPECT_EQ(call_word(req), U256(5));

    // A balance and nonce override for the sender: a value call that it could not pay for.
    CallRequest pay;
    pay.from = addr(0x61);
    pay.to = addr(0x62);
    pay.value = eth(5);
    EXPECT_FALSE(node_->call(pay, BlockSelector::latest()).has_value() &&
                 node_->call(pay, BlockSelector::latest())->success);
    AccountOverride rich;
    rich.balance = eth(10);
    rich.nonce = 4;
    pay.state_overrides = {{addr(0x61), rich}};
    auto paid = node_->call(pay, BlockSelector::latest());
    ASSERT_TRUE(paid.has_value() && paid->success);
    auto gas = node_->estimate_gas(pay, BlockSelector::latest());
    ASSERT_TRUE(gas.has_value()) << gas.error().message;
    EXPECT_EQ(*gas, 21000U);
    // Nothing stays.
    EXPECT_TRUE(node_->code(kStorageOnly, BlockSelector::latest())->empty());
    EXPECT_TRUE(node_->balance(addr(0x61), BlockSelector::latest())->is_zero());
    EXPECT_EQ(slot(kStorageOnly, 2), U256(7));
}

// --history.state: balances, nonces, storage, code and calls at every block of the window equal
// what was read at that block when it was the head, through transfers, EIP-161 removals (one
// with storage), dev account changes, a deployment and an evm_revert; older blocks are refused.
TEST_F(SnapshotTest, reads_at_recent_blocks_match_what_each_block_left) {
    std::mt19937_64 rng(11);
    const auto read_slot1 = [] {  // runtime: return SLOAD(1)
        return Bytes{0x60, 0x01, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3};
    };
    struct Seen {
        U256 bal7;
        U256 bal_empty;
        uint64_t nonce0 = 0;
        U256 s1;
        U256 call_s1;
        bool empty_exists = false;
        Bytes code;
    };
    const Address deployed = exec::create_address(dev_[2].address, 0);
    const auto observe = [&](BlockSelector at) {
        Seen v;
        v.bal7 = *node_->balance(addr(7), at);
        v.bal_empty = *node_->balance(kEmptyAcct, at);
        v.nonce0 = *node_->nonce(dev_[0].address, at);
        v.s1 = U256::from_be32(node_->storage_at(kStorageOnly, U256(1), at)->bytes.data());
        v.code = *node_->code(deployed, at);
        CallRequest req;
        req.to = kStorageOnly;
        AccountOverride o;
        o.code = read_slot1();
        req.state_overrides = {{kStorageOnly, o}};
        auto out = node_->call(req, at);
        EXPECT_TRUE(out.has_value() && out->success);
        if (out && out->output.size() == 32) {
            v.call_s1 = U256::from_be32(out->output.data());
        }
        return v;
    };
    const auto same = [](const Seen& a, const Seen& b) {
        return a.bal7 == b.bal7 && a.bal_empty == b.bal_empty && a.nonce0 == b.nonce0 &&
               a.s1 == b.s1 && a.call_s1 == b.call_s1 && a.code == b.code;
    };
    std::vector<Seen> seen{observe(BlockSelector::latest())};
    uint64_t nonce0 = 0;
    for (int round = 0; round < 60; ++round) {
        submit(make_txn(dev_[0].secret_key, nonce0++, addr(7), U256(1 + rng() % 1000)));
        const uint64_t kind = rng() % 4;
        if (kind == 0) {  // EIP-161: removes kEmptyAcct / kStorageOnly (and its storage) if empty
            submit(make_txn(dev_[0].secret_key, nonce0++,
                            rng() % 2 == 0 ? kEmptyAcct : kStorageOnly, U256(0), 30'000));
        } else if (kind == 1) {
            DevAccountChange c;
            c.storage = {{U256(1), U256(rng() % 3)}};
            ASSERT_TRUE(node_->set_account(kStorageOnly, c).has_value());
        } else if (kind == 2) {
            submit(make_txn(dev_[0].secret_key, nonce0++, kEmptyAcct, U256(rng() % 2)));
        }
        if (round == 20) {
            submit(
                make_txn(dev_[2].secret_key, 0, std::nullopt, U256(0), 200'000, deployer_init()));
        }
        if (round == 40) {  // a revert inside the window: the kept values follow it
            auto snap = node_->snapshot();
            ASSERT_TRUE(snap.has_value());
            submit(make_txn(dev_[1].secret_key, 0, addr(7), eth(5)));
            ASSERT_EQ(mine(), seen.size());
            ASSERT_TRUE(*node_->revert(*snap));
        }
        ASSERT_EQ(mine(), seen.size());
        seen.push_back(observe(BlockSelector::latest()));
    }
    for (uint64_t n = 0; n < seen.size(); ++n) {
        EXPECT_TRUE(same(observe(BlockSelector::at(n)), seen[n])) << "block " << n;
    }
    EXPECT_FALSE(seen.front().code == seen.back().code);  // the deployment is in the window

    // The window survives a restart: each block's old values are stored with it. With a memory
    // budget of one value, reads decode the stored records instead.
    for (const size_t budget : {size_t{1} << 20, size_t{1}}) {
        node_.reset();
        NodeConfig c = config();
        c.history_memory_values = budget;
        node_ = test::open_node(c);
        ASSERT_TRUE(node_);
        for (uint64_t n = 0; n < seen.size(); ++n) {
            EXPECT_TRUE(same(observe(BlockSelector::at(n)), seen[n]))
                << "block " << n << " reopened, memory budget " << budget;
        }
    }

    // A window of 5 blocks: block head-5 is served, head-6 is refused with the reason.
    node_.reset();
    NodeConfig c = config();
    c.state_history = 5;
    node_ = test::open_node(c);
    ASSERT_TRUE(node_);
    for (int i = 0; i < 8; ++i) {
        submit(make_txn(dev_[0].secret_key, nonce0++, addr(7), U256(1)));
        mine();
    }
    const uint64_t head = node_->head().number;
    EXPECT_TRUE(node_->balance(addr(7), BlockSelector::at(head - 5)).has_value());
    auto too_old = node_->balance(addr(7), BlockSelector::at(head - 6));
    ASSERT_FALSE(too_old.has_value());
    EXPECT_NE(too_old.error().message.find("historical state not available"), std::string::npos);

    // The larger window's older records went with those blocks: only the 5 of the window are
    // left. With the history off, the next block deletes the rest.
    const auto stored_records = [&] {
        node_.reset();
        state::StateStoreOptions so;
        so.sync = false;
        auto store = state::StateStore::open((dir_.path() / "data" / "chaindata").string(), so);
        EXPECT_TRUE(store.has_value()) << store.error().message;
        size_t count = 0;
        EXPECT_TRUE((*store)
                        ->for_each_aux(keys::old_values_prefix(),
                                       [&](ByteView, ByteView) {
                                           ++count;
                                           return true;
                                       })
                        .has_value());
        return count;
    };
    EXPECT_EQ(stored_records(), 5U);
    c.state_history = 0;
    node_ = test::open_node(c);
    ASSERT_TRUE(node_);
    submit(make_txn(dev_[0].secret_key, nonce0++, addr(7), U256(1)));
    mine();
    EXPECT_EQ(stored_records(), 0U);
}

// A snapshot taken while changes are pending brings them back, still pending.
TEST_F(SnapshotTest, revert_restores_pending_dev_changes) {
    DevAccountChange c;
    c.balance = eth(9);
    ASSERT_TRUE(node_->set_account(addr(0x35), c).has_value());
    auto snap = node_->snapshot();
    ASSERT_TRUE(snap.has_value());
    c.balance = eth(10);
    ASSERT_TRUE(node_->set_account(addr(0x35), c).has_value());
    ASSERT_EQ(mine(), 1U);
    EXPECT_TRUE(*node_->revert(*snap));
    EXPECT_EQ(node_->head().number, 0U);
    EXPECT_EQ(*node_->balance(addr(0x35), BlockSelector::latest()), eth(9));
    ASSERT_EQ(mine(), 1U);
    EXPECT_EQ(*node_->balance(addr(0x35), BlockSelector::latest()), eth(9));
}

// Snapshots nest: reverting to an inner one keeps the outer one, and random blocks of transfers,
// storage writes, removals and dev account changes between them always come back to the recorded
// roots.
TEST_F(SnapshotTest, nested_snapshots_over_random_blocks) {
    std::mt19937_64 rng(7);
    std::vector<uint64_t> nonces(dev_.size(), 0);
    std::vector<std::pair<uint64_t, Hash32>> snaps;  // (id, head root)
    for (int round = 0; round < 120; ++round) {
        if (rng() % 3 == 0) {
            auto id = node_->snapshot();
            ASSERT_TRUE(id.has_value());
            snaps.emplace_back(*id, root(node_->head().number));
        }
        if (!snaps.empty() && rng() % 4 == 0) {
            const size_t pick = rng() % snaps.size();
            auto ok = node_->revert(snaps[pick].first);
            ASSERT_TRUE(ok.has_value()) << ok.error().message;
            ASSERT_TRUE(*ok);
            EXPECT_EQ(root(node_->head().number), snaps[pick].second);
            snaps.resize(pick);
            for (size_t i = 0; i < dev_.size(); ++i) {
                nonces[i] = *node_->nonce(dev_[i].address, BlockSelector::latest());
            }
            continue;
        }
        if (rng() % 4 == 0) {  // a pending dev change, carried by the next block
            DevAccountChange c;
            c.balance = U256(rng() % 1000);
            c.storage = {{U256(rng() % 4), U256(rng() % 3)}};
            const Address who =
                rng() % 2 == 0 ? kStorageOnly : addr(static_cast<uint8_t>(rng() % 6));
            ASSERT_TRUE(node_->set_account(who, c).has_value());
        }
        const size_t txs = 1 + rng() % 4;
        for (size_t t = 0; t < txs; ++t) {
            const size_t who = rng() % dev_.size();
            const uint64_t kind = rng() % 4;
            const Address to = kind == 0   ? addr(static_cast<uint8_t>(rng() % 6))
                               : kind == 1 ? kLogger
                               : kind == 2 ? kEmptyAcct
                                           : kStorageOnly;
            submit(make_txn(dev_[who].secret_key, nonces[who]++, to, U256(rng() % 3), 100'000));
        }
        mine();
    }
}

/// A dev-chain node in a temporary datadir, started (block production running).
class StartedDevNode : public ::testing::Test {
  protected:
    void SetUp() override {
        node = test::open_node(c);
        ASSERT_TRUE(node);
        ASSERT_TRUE(node->start().has_value());
    }
    /// Sends `count` transfers of 1 wei from dev account 1 to addr(7) on a thread of its own (the
    /// dev node automines them); every hash goes to `sent` under `sent_mu` when given. `done` is
    /// set on every way out (a failed ASSERT returns early), so loops waiting on it end.
    std::thread send_in_background(int count, std::atomic<bool>& done,
                                   std::mutex* sent_mu = nullptr,
                                   std::vector<Hash32>* sent = nullptr) {
        return std::thread([this, count, &done, sent_mu, sent] {
            struct SetDone {
                std::atomic<bool>& flag;
                ~SetDone() { flag = true; }
            } set_done{done};
            CallRequest req;
            req.from = node->accounts()[1];
            req.to = addr(7);
            req.value = U256{1};
            for (int i = 0; i < count; ++i) {
                auto h = node->send_transaction(req);
                ASSERT_TRUE(h.has_value()) << h.error().message;
                if (sent != nullptr) {
                    const std::lock_guard lock(*sent_mu);
                    sent->push_back(*h);
                }
            }
        });
    }
    TempDir dir;
    NodeConfig c = test::dev_config(dir);
    std::unique_ptr<Node> node;
};

TEST_F(StartedDevNode, dev_clock_mines_and_moves_time) {
    // evm_mine with an empty pool: an empty block.
    auto n1 = node->mine_block(std::nullopt);
    ASSERT_TRUE(n1.has_value()) << n1.error().message;
    EXPECT_EQ(*n1, 1U);
    EXPECT_EQ(node->head().number, 1U);
    const uint64_t t1 = node->head().timestamp;
    // The next block at a set timestamp; later ones go on from it.
    ASSERT_TRUE(node->set_next_block_timestamp(t1 + 1000).has_value());
    ASSERT_TRUE(node->mine_block(std::nullopt).has_value());
    EXPECT_EQ(node->head().timestamp, t1 + 1000);
    ASSERT_TRUE(node->mine_block(std::nullopt).has_value());
    EXPECT_GE(node->head().timestamp, t1 + 1001);
    EXPECT_LE(node->head().timestamp, t1 + 1010);
    // evm_mine(timestamp).
    const uint64_t t3 = node->head().timestamp;
    ASSERT_TRUE(node->mine_block(t3 + 50).has_value());
    EXPECT_EQ(node->head().timestamp, t3 + 50);
    // evm_increaseTime: the offset adds up, and blocks and calls see it.
    auto total = node->increase_time(3600);
    ASSERT_TRUE(total.has_value());
    const uint64_t t4 = node->head().timestamp;
    ASSERT_TRUE(node->mine_block(std::nullopt).has_value());
    EXPECT_GE(node->head().timestamp, t4 + 3600);
    // Not after the head: refused, nothing changes.
    const uint64_t head_ts = node->head().timestamp;
    auto bad = node->set_next_block_timestamp(head_ts);
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().message.find("is not after the head's"), std::string::npos);
    auto bad_mine = node->mine_block(head_ts - 1);
    ASSERT_FALSE(bad_mine.has_value());
    EXPECT_EQ(node->head().timestamp, head_ts);
    // A transaction in the pool goes into the mined block.
    CallRequest req;
    req.from = node->accounts()[2];
    req.to = addr(6);
    req.value = eth(1);
    auto h = node->send_transaction(req);
    ASSERT_TRUE(h.has_value());
    EXPECT_TRUE(test::eventually([&] {
        auto r = node->receipt_by_hash(*h);
        return r && r->has_value();
    }));
    node->stop();
}

// evm_setAutomine / evm_setIntervalMining: transactions wait for evm_mine with automine off (and
// then share one block), an interval mines empty blocks, and turning automine on mines the pool.
TEST_F(StartedDevNode, mining_modes_follow_set_automine_and_interval) {
    EXPECT_TRUE(node->mining_mode().automine);
    EXPECT_EQ(node->mining_mode().interval_s, 0.0);
    ASSERT_TRUE(node->set_mining(false, std::nullopt).has_value());
    CallRequest req;
    req.from = node->accounts()[1];
    req.to = addr(6);
    req.value = eth(1);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(node->send_transaction(req).has_value());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(node->head().number, 0U);
    EXPECT_EQ(node->pool_content().pending.size(), 3U);
    ASSERT_TRUE(node->mine_block(std::nullopt).has_value());
    EXPECT_EQ(node->head().number, 1U);
    auto b1 = node->block_by_number(BlockSelector::at(1));
    ASSERT_TRUE(b1.has_value() && b1->has_value());
    EXPECT_EQ((*b1)->transactions.size(), 3U);

    // Interval mining: blocks come by themselves, empty.
    ASSERT_TRUE(node->set_mining(std::nullopt, 0.05).has_value());
    EXPECT_TRUE(test::eventually([&] { return node->head().number >= 3; }));
    ASSERT_TRUE(node->set_mining(std::nullopt, 0.0).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a block in flight lands
    const uint64_t stopped_at = node->head().number;
    ASSERT_TRUE(node->send_transaction(req).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(node->head().number, stopped_at);
    // Automine on: what waits in the pool is mined at once.
    ASSERT_TRUE(node->set_mining(true, std::nullopt).has_value());
    EXPECT_TRUE(test::eventually([&] { return node->pool_content().pending.empty(); }));
    EXPECT_EQ(node->head().number, stopped_at + 1);
    EXPECT_FALSE(node->set_mining(std::nullopt, -1.0).has_value());
    node->stop();
}

/// Automine that gathers for a long window (3 s).
class GatheringNodeBase : public StartedDevNode {
  protected:
    GatheringNodeBase() { c.automine_gather_ms = 3000; }
    /// A transfer of 1 ETH from dev account 1 to addr(6).
    CallRequest transfer() {
        CallRequest req;
        req.from = node->accounts()[1];
        req.to = addr(6);
        req.value = eth(1);
        return req;
    }
    /// Sends `count` transfers with automine off, then switches it on: they are all ready at
    /// once when the producer wakes.
    void release_transfers(int count) {
        ASSERT_TRUE(node->set_mining(false, std::nullopt).has_value());
        for (int i = 0; i < count; ++i) ASSERT_TRUE(node->send_transaction(transfer()).has_value());
        ASSERT_EQ(count_pending(), static_cast<uint64_t>(count));
        ASSERT_TRUE(node->set_mining(true, std::nullopt).has_value());
    }
    uint64_t count_pending() { return node->pool_content().pending.size(); }
};

/// ... with blocks of at most two transactions.
class GatheringDevNode : public GatheringNodeBase {
  protected:
    GatheringDevNode() { c.max_block_txs = 2; }
};

// After a block, transactions that arrived while it was built wait for more (up to the window),
// unless they already fill a block; an empty pool's first transaction is mined at once; stop()
// does not wait for the window.
TEST_F(GatheringDevNode, automine_gathers_only_under_load) {
    ASSERT_NO_FATAL_FAILURE(release_transfers(5));
    // Five ready: a full block, three left (still a full block: no wait), a second one, then
    // one left, which waits for the window.
    ASSERT_TRUE(test::eventually([&] { return node->head().number >= 2; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    EXPECT_EQ(node->head().number, 2U);
    EXPECT_EQ(count_pending(), 1U);
    ASSERT_TRUE(test::eventually([&] { return node->head().number >= 3; }));
    EXPECT_EQ(count_pending(), 0U);
    auto b3 = node->block_by_number(BlockSelector::at(3));
    ASSERT_TRUE(b3.has_value() && b3->has_value());
    EXPECT_EQ((*b3)->transactions.size(), 1U);

    // Idle pool: the next transaction is mined at once, not after the window.
    const auto sent_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(node->send_transaction(transfer()).has_value());
    ASSERT_TRUE(test::eventually([&] { return node->head().number >= 4; }));
    EXPECT_LT(std::chrono::steady_clock::now() - sent_at, std::chrono::milliseconds(2000));

    // stop() during a gathering wait returns without waiting for the window.
    ASSERT_NO_FATAL_FAILURE(release_transfers(3));
    ASSERT_TRUE(test::eventually([&] { return node->head().number >= 5; }));
    const auto stop_at = std::chrono::steady_clock::now();
    node->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - stop_at, std::chrono::milliseconds(2000));
    EXPECT_EQ(node->head().number, 5U);
}

/// ... with a gas limit of two transfers per block.
class GatheringSmallBlocksDevNode : public GatheringNodeBase {
  protected:
    GatheringSmallBlocksDevNode() { c.gas_limit = 50'000; }
};

// A block that was full by gas leaves transactions that did not fit, not new arrivals: the next
// block is built at once.
TEST_F(GatheringSmallBlocksDevNode, a_full_block_does_not_wait) {
    const auto on_at = std::chrono::steady_clock::now();
    ASSERT_NO_FATAL_FAILURE(release_transfers(3));
    ASSERT_TRUE(test::eventually([&] { return node->head().number >= 2; }));
    EXPECT_LT(std::chrono::steady_clock::now() - on_at, std::chrono::milliseconds(2000));
    for (const auto& [number, txs] : {std::pair<uint64_t, size_t>{1, 2}, {2, 1}}) {
        auto b = node->block_by_number(BlockSelector::at(number));
        ASSERT_TRUE(b.has_value() && b->has_value());
        EXPECT_EQ((*b)->transactions.size(), txs) << "block " << number;
    }
    node->stop();
}

TEST_F(StartedDevNode, sign_transaction_signs_without_submitting) {
    CallRequest req;
    req.from = node->accounts()[1];
    req.to = addr(5);
    req.value = eth(2);
    auto raw = node->sign_transaction(req);
    ASSERT_TRUE(raw.has_value()) << raw.error().message;
    // Signing takes no nonce and submits nothing: the same request signs the same transaction.
    auto again = node->sign_transaction(req);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, *raw);
    EXPECT_EQ(*node->nonce(*req.from, BlockSelector{BlockTag::kPending, 0}), 0U);
    auto txn = decode_transaction(*raw);
    ASSERT_TRUE(txn.has_value());
    EXPECT_EQ(txn->type, TxnType::kDynamicFee);
    EXPECT_EQ(txn->nonce, 0U);
    EXPECT_EQ(txn->gas_limit, 21000U);
    EXPECT_EQ(txn->chain_id, c.chain_id);
    EXPECT_EQ(*recover_sender(*txn), *req.from);
    // Submitted as a raw transaction, it is mined under keccak of the encoding.
    auto h = node->submit_raw_transaction(*raw);
    ASSERT_TRUE(h.has_value()) << h.error().message;
    EXPECT_EQ(*h, keccak256(*raw));
    EXPECT_TRUE(test::eventually([&] {
        auto r = node->receipt_by_hash(*h);
        return r && r->has_value();
    }));
    EXPECT_EQ(*node->balance(addr(5), BlockSelector::latest()), eth(2));
    req.from = addr(1);
    auto unknown = node->sign_transaction(req);
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().message, "unknown account");
    node->stop();
}

TEST_F(StartedDevNode, traces_replay_a_block_over_its_parents_state) {
    // One block: a dev balance change, three transfers from one account (each replayed over the
    // ones before it) and one from the account whose balance was set.
    const Address a1 = node->accounts()[1];
    const Address a2 = node->accounts()[2];
    ASSERT_TRUE(node->set_mining(false, std::nullopt).has_value());
    DevAccountChange set;
    set.balance = eth(5);
    ASSERT_TRUE(node->set_account(a2, set).has_value());
    CallRequest req;
    req.from = a1;
    req.to = addr(6);
    req.value = eth(1);
    std::vector<Hash32> hashes;
    for (int i = 0; i < 3; ++i) {
        hashes.push_back(node->send_transaction(req).value());
    }
    req.from = a2;
    req.to = a1;
    req.value = eth(2);
    hashes.push_back(node->send_transaction(req).value());
    ASSERT_TRUE(node->mine_block(std::nullopt).has_value());
    ASSERT_EQ(node->head().number, 1U);

    TraceOptions calls;
    calls.tracer = TraceOptions::Tracer::kCall;
    auto block = node->trace_block(BlockSelector::at(1), calls);
    ASSERT_TRUE(block.has_value()) << block.error().message;
    ASSERT_TRUE(block->has_value());
    ASSERT_EQ((*block)->size(), 4U);
    const auto b1 = node->block_by_number(BlockSelector::at(1)).value().value();
    for (size_t i = 0; i < 4; ++i) {
        const TxTrace& t = (**block)[i];
        EXPECT_EQ(t.tx_hash, b1.transactions[i].hash);  // in the block's order
        const auto* frame = std::get_if<exec::CallFrame>(&t.result);
        ASSERT_NE(frame, nullptr);
        EXPECT_EQ(frame->type, exec::CallFrame::Type::kCall);
        EXPECT_EQ(frame->gas_used, 21000U);
        EXPECT_EQ(frame->value, t.tx_hash == hashes[3] ? eth(2) : eth(1));
    }
    // trace_*'s gas: the top frame's without the intrinsic gas (a transfer's: all of it).
    TraceOptions parity = calls;
    parity.parity_gas = true;
    auto flat = node->trace_transaction(hashes[0], parity);
    ASSERT_TRUE(flat.has_value()) << flat.error().message;
    const auto& flat_top = std::get<exec::CallFrame>(**flat);
    EXPECT_EQ(flat_top.gas, node->transaction_by_hash(hashes[0]).value()->txn.gas_limit - 21000);
    EXPECT_EQ(flat_top.gas_used, 0U);
    // The third transfer sees the first two; the last one the balance anvil_setBalance gave.
    TraceOptions diff;
    diff.tracer = TraceOptions::Tracer::kPrestate;
    diff.diff_mode = true;
    auto third = node->trace_transaction(hashes[2], diff);
    ASSERT_TRUE(third.has_value()) << third.error().message;
    const auto& p3 = std::get<PrestateTrace>(**third);
    EXPECT_EQ(p3.pre.at(a1).nonce, 2U);
    EXPECT_EQ(p3.pre.at(addr(6)).balance, eth(2));
    EXPECT_EQ(p3.post.at(addr(6)).balance, eth(3));
    TraceOptions pre;
    pre.tracer = TraceOptions::Tracer::kPrestate;
    auto last = node->trace_transaction(hashes[3], pre);
    ASSERT_TRUE(last.has_value()) << last.error().message;
    EXPECT_EQ(std::get<PrestateTrace>(**last).pre.at(a2).balance, eth(5));
    // Pending or unknown: nothing to trace.
    auto none = node->trace_transaction(Hash32{}, calls);
    ASSERT_TRUE(none.has_value());
    EXPECT_FALSE(none->has_value());
    // A call traced at the head and at block 0 (before any transfer).
    CallRequest probe;
    probe.from = a2;
    probe.to = addr(6);
    auto at_head = node->trace_call(probe, BlockSelector::latest(), pre);
    ASSERT_TRUE(at_head.has_value()) << at_head.error().message;
    EXPECT_EQ(std::get<PrestateTrace>(*at_head).pre.at(addr(6)).balance, eth(3));
    auto at_genesis = node->trace_call(probe, BlockSelector::at(0), pre);
    ASSERT_TRUE(at_genesis.has_value()) << at_genesis.error().message;
    EXPECT_EQ(std::get<PrestateTrace>(*at_genesis).pre.at(addr(6)).balance, U256{});
    // The opcode logger through debug_traceCall: PUSH1 1, POP, STOP.
    DevAccountChange code;
    code.code = Bytes{0x60, 0x01, 0x50, 0x00};
    ASSERT_TRUE(node->set_account(addr(9), code).has_value());
    probe.to = addr(9);
    auto logged = node->trace_call(probe, BlockSelector::latest(), TraceOptions{});
    ASSERT_TRUE(logged.has_value()) << logged.error().message;
    EXPECT_EQ(std::get<exec::StructTrace>(*logged).logs.size(), 3U);
    node->stop();
}

TEST_F(StartedDevNode, traces_run_beside_block_production) {
    // Automine: blocks land while two threads trace them (the ThreadSanitizer suite runs this).
    std::atomic<bool> done{false};
    std::mutex mu;
    std::vector<Hash32> sent;
    std::thread producer = send_in_background(40, done, &mu, &sent);
    const auto tracer = [&](TraceOptions::Tracer kind) {
        TraceOptions o;
        o.tracer = kind;
        size_t traced = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while ((!done || traced == 0) && std::chrono::steady_clock::now() < deadline) {
            std::optional<Hash32> h;
            {
                const std::lock_guard lock(mu);
                if (!sent.empty()) {
                    h = sent[traced % sent.size()];
                }
            }
            if (h) {
                auto t = node->trace_transaction(*h, o);
                ASSERT_TRUE(t.has_value()) << t.error().message;
                traced += t->has_value() ? 1U : 0U;  // empty while still pending
            }
            auto b = node->trace_block(BlockSelector::latest(), o);
            ASSERT_TRUE(b.has_value()) << b.error().message;
        }
        if (traced == 0) {
            const std::lock_guard lock(mu);
            const auto pool = node->pool_content();
            ADD_FAILURE() << "no transaction traced in 60 s: " << sent.size() << " sent, head "
                          << node->head().number << ", pool " << pool.pending.size() << " pending, "
                          << pool.queued.size() << " queued";
        }
    };
    std::thread calls(tracer, TraceOptions::Tracer::kCall);
    std::thread steps(tracer, TraceOptions::Tracer::kStruct);
    producer.join();
    calls.join();
    steps.join();
    EXPECT_TRUE(test::eventually([&] { return node->pool_content().pending.empty(); }));
    node->stop();
}

// trace_call's "trace" and "stateDiff" are two runs of the call: both must see the same head even
// while blocks land between them (each run here reads the recipient's balance, which every block
// raises).
TEST_F(StartedDevNode, trace_call_each_runs_every_tracer_on_one_head) {
    std::atomic<bool> done{false};
    std::thread producer = send_in_background(40, done);
    TraceOptions pre;
    pre.tracer = TraceOptions::Tracer::kPrestate;
    const std::array<TraceOptions, 3> runs{pre, pre, pre};
    CallRequest probe;
    probe.from = node->accounts()[2];
    probe.to = addr(7);
    size_t traced = 0;
    while (!done || traced == 0) {
        auto r = node->trace_call_each(probe, BlockSelector::latest(), runs);
        ASSERT_TRUE(r.has_value()) << r.error().message;
        ASSERT_EQ(r->size(), runs.size());
        const auto first = std::get<PrestateTrace>(r->front()).pre.at(addr(7)).balance;
        for (const TraceResult& t : *r) {
            EXPECT_EQ(std::get<PrestateTrace>(t).pre.at(addr(7)).balance, first);
        }
        ++traced;
    }
    producer.join();
    EXPECT_TRUE(test::eventually([&] { return node->pool_content().pending.empty(); }));
    const auto last = node->trace_call_each(probe, BlockSelector::latest(), runs);
    ASSERT_TRUE(last.has_value()) << last.error().message;
    EXPECT_EQ(std::get<PrestateTrace>(last->back()).pre.at(addr(7)).balance, U256{40});
    node->stop();
}

TEST(ChainDev, traces_need_the_parents_state_in_the_history_window) {
    TempDir dir;
    NodeConfig c = test::dev_config(dir);
    c.state_history = 2;
    auto node = test::open_node(c);
    ASSERT_TRUE(node);
    ASSERT_TRUE(node->start().has_value());
    ASSERT_TRUE(node->set_mining(false, std::nullopt).has_value());
    CallRequest req;
    req.from = node->accounts()[1];
    req.to = addr(6);
    req.value = eth(1);
    const Hash32 h = node->send_transaction(req).value();
    ASSERT_TRUE(node->mine_block(std::nullopt).has_value());              // block 1
    ASSERT_TRUE(node->trace_transaction(h, TraceOptions{}).has_value());  // the opcode logger
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(node->mine_block(std::nullopt).has_value());
    }
    auto old = node->trace_transaction(h, TraceOptions{});
    ASSERT_FALSE(old.has_value());
    EXPECT_EQ(old.error().kind, ApiErrorKind::kRejected);
    EXPECT_NE(old.error().message.find("historical state not available: block 0"),
              std::string::npos)
        << old.error().message;
    node->stop();
}

TEST(ChainDev, history_window_and_traces_survive_a_restart) {
    TempDir dir;
    NodeConfig c = test::dev_config(dir);
    c.state_history = 3;
    Hash32 from_set;  // sent by the account anvil_setBalance funded, in block 1
    Address a2;
    {
        auto node = test::open_node(c);
        ASSERT_TRUE(node);
        ASSERT_TRUE(node->start().has_value());
        ASSERT_TRUE(node->set_mining(false, std::nullopt).has_value());
        a2 = node->accounts()[2];
        DevAccountChange set;
        set.balance = eth(5);
        ASSERT_TRUE(node->set_account(a2, set).has_value());
        CallRequest req;
        req.from = a2;
        req.to = addr(6);
        req.value = eth(2);
        from_set = node->send_transaction(req).value();
        ASSERT_TRUE(node->mine_block(std::nullopt).has_value());  // block 1
        req.from = node->accounts()[1];
        req.value = eth(1);
        for (int i = 0; i < 2; ++i) {  // blocks 2 and 3
            ASSERT_TRUE(node->send_transaction(req).has_value());
            ASSERT_TRUE(node->mine_block(std::nullopt).has_value());
        }
        node->stop();
    }
    c.history_memory_values = 1;  // reads and the replay's dev change come from the records
    auto node = test::open_node(c);
    ASSERT_TRUE(node);
    ASSERT_EQ(node->head().number, 3U);
    for (uint64_t n = 0; n <= 3; ++n) {
        auto b = node->balance(addr(6), BlockSelector::at(n));
        ASSERT_TRUE(b.has_value()) << "block " << n << ": " << b.error().message;
        EXPECT_EQ(*b, n == 0 ? U256{} : eth(1 + n)) << "block " << n;
    }
    // Block 1 replays over block 0 with the dev change it carried.
    TraceOptions pre;
    pre.tracer = TraceOptions::Tracer::kPrestate;
    auto t = node->trace_transaction(from_set, pre);
    ASSERT_TRUE(t.has_value()) << t.error().message;
    ASSERT_TRUE(t->has_value());
    EXPECT_EQ(std::get<PrestateTrace>(**t).pre.at(a2).balance, eth(5));
    // The window moves on with the next block, and a smaller one after a restart is what counts.
    ASSERT_TRUE(node->mine_block(std::nullopt).has_value());  // block 4
    EXPECT_FALSE(node->balance(addr(6), BlockSelector::at(0)).has_value());
    EXPECT_EQ(node->balance(addr(6), BlockSelector::at(1)).value(), eth(2));
    node.reset();
    c.state_history = 1;
    node = test::open_node(c);
    ASSERT_TRUE(node);
    EXPECT_EQ(node->balance(addr(6), BlockSelector::at(3)).value(), eth(4));
    auto old = node->balance(addr(6), BlockSelector::at(2));
    ASSERT_FALSE(old.has_value());
    EXPECT_NE(old.error().message.find("historical state not available"), std::string::npos);
}

TEST(ChainDev, automine_send_transaction_and_subscriptions) {
    TempDir dir;
    NodeConfig c = test::dev_config(dir);
    auto node = test::open_node(c);
    ASSERT_TRUE(node);
    std::mutex mu;
    std::vector<NewBlockEvent> blocks;
    std::vector<Hash32> pending;
    const SubscriptionId id = node->subscribe(Subscriber{[&](const NewBlockEvent& ev) {
                                                             const std::lock_guard lock(mu);
                                                             blocks.push_back(ev);
                                                         },
                                                         [&](const Hash32& h) {
                                                             const std::lock_guard lock(mu);
                                                             pending.push_back(h);
                                                         }});
    ASSERT_TRUE(node->start().has_value());
    CallRequest req;
    req.from = node->accounts()[0];
    req.to = addr(4);
    req.value = eth(3);
    auto h = node->send_transaction(req);
    ASSERT_TRUE(h.has_value()) << h.error().message;
    EXPECT_TRUE(test::eventually([&] {
        auto r = node->receipt_by_hash(*h);
        return r && r->has_value();
    }));
    EXPECT_EQ(*node->balance(addr(4), BlockSelector::latest()), eth(3));
    // Subscribers hear of the block just after its receipt is served.
    EXPECT_TRUE(test::eventually([&] {
        const std::lock_guard lock(mu);
        return !blocks.empty();
    }));
    {
        const std::lock_guard lock(mu);
        ASSERT_EQ(pending.size(), 1U);
        EXPECT_EQ(pending[0], *h);
        ASSERT_GE(blocks.size(), 1U);
        EXPECT_EQ(blocks[0].tx_hashes, std::vector<Hash32>{*h});
    }
    // Unknown accounts are refused.
    req.from = addr(1);
    auto unknown = node->send_transaction(req);
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().message, "unknown account");
    node->unsubscribe(id);
    node->stop();
    const NodeMetrics m = node->metrics();
    EXPECT_GE(m.head_number, 1U);
    EXPECT_EQ(m.txs_committed, 1U);
    EXPECT_EQ(m.gas_committed, 21000U);
}

TEST(ChainDev, concurrent_submissions_and_reads_while_automining) {
    TempDir dir;
    auto node = test::open_node(test::dev_config(dir));
    ASSERT_TRUE(node);
    std::atomic<uint64_t> blocks_seen{0};
    const SubscriptionId id =
        node->subscribe(Subscriber{[&](const NewBlockEvent&) { blocks_seen.fetch_add(1); }, {}});
    ASSERT_TRUE(node->start().has_value());
    constexpr size_t kSenders = 4;
    constexpr uint64_t kPerSender = 40;
    std::atomic<bool> done{false};
    std::atomic<size_t> errors{0};
    std::vector<std::thread> threads;
    for (size_t s = 0; s < kSenders; ++s) {
        threads.emplace_back([&, s] {
            const Hash32 key = node->dev_accounts()[s].secret_key;
            for (uint64_t n = 0; n < kPerSender; ++n) {
                auto r = node->submit_raw_transaction(
                    raw(make_txn(key, n, addr(static_cast<uint8_t>(s)), U256(1))));
                if (!r) {
                    errors.fetch_add(1);
                }
            }
        });
    }
    std::thread reader([&] {
        while (!done.load()) {
            auto b = node->block_by_number(BlockSelector::latest());
            if (!b || !b->has_value()) {
                errors.fetch_add(1);
                continue;
            }
            for (const TxRecord& t : (*b)->transactions) {
                auto r = node->receipt_by_hash(t.hash);
                if (!r || !r->has_value()) {
                    errors.fetch_add(1);
                }
            }
            (void)node->nonce(node->accounts()[0], {BlockTag::kPending, 0});
            (void)node->metrics();
            LogFilter f;
            (void)node->logs(f);
        }
    });
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_TRUE(
        test::eventually([&] { return node->metrics().txs_committed == kSenders * kPerSender; }));
    done.store(true);
    reader.join();
    // Subscribers hear of a block after its head and metrics are published: only once the
    // producer has stopped has every block been announced.
    node->stop();
    node->unsubscribe(id);
    EXPECT_EQ(errors.load(), 0U);
    for (size_t s = 0; s < kSenders; ++s) {
        EXPECT_EQ(*node->nonce(node->accounts()[s], BlockSelector::latest()), kPerSender);
        EXPECT_EQ(*node->balance(addr(static_cast<uint8_t>(s)), BlockSelector::latest()),
                  U256(kPerSender));
    }
    EXPECT_EQ(blocks_seen.load(), node->head().number);
}

TEST(ChainDev, periodic_blocks_are_produced_empty_too) {
    TempDir dir;
    NodeConfig c = test::dev_config(dir);
    c.block_time_s = 0.05;
    auto node = test::open_node(c);
    ASSERT_TRUE(node);
    ASSERT_TRUE(node->start().has_value());
    EXPECT_TRUE(test::eventually([&] { return node->head().number >= 3; }));
    node->stop();
    const uint64_t n = node->head().number;
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    EXPECT_EQ(node->head().number, n);  // stopped means stopped
}

}  // namespace
}  // namespace pel::node
