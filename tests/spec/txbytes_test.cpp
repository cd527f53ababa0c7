// SPDX-License-Identifier: Apache-2.0
// Every post["Cancun"] entry of the Ethereum GeneralStateTests carries the signed transaction as
// "txbytes". This runner checks pel's transaction codec against all of them, one gtest per fixture
// folder:
//   - an entry whose expected exception (if any) is a state-transition failure (intrinsic gas,
//     funds, blob count, sender not an EOA...) must decode, re-encode byte for byte, carry the
//     fields the fixture lists, and recover to the address of the case's transaction.secretKey;
//   - an entry whose expected exception is a decoding failure must be rejected by
//     decode_transaction.
// The rule is by exception kind only, never by file or test name (see kDecodingExceptions).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "primitives/hex.hpp"
#include "primitives/secp256k1.hpp"
#include "primitives/transaction.hpp"

namespace pel {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Exception kinds that go-ethereum raises while decoding the transaction bytes, before any state
// is touched:
//   RLP_*                        malformed RLP; in the fixtures, RLP_INVALID_VALUE is a legacy
//                                txn whose value is 33 bytes (geth: "rlp: input string too long
//                                for uint256").
//   TYPE_3_TX_CONTRACT_CREATION  a blob txn with an empty `to`: geth's BlobTx.To is a plain
//                                common.Address, so the RLP decoder rejects the empty string
//                                ("rlp: input string too short for common.Address").
// Every other kind in the fixtures (INTRINSIC_GAS_TOO_LOW, INSUFFICIENT_ACCOUNT_FUNDS,
// INSUFFICIENT_MAX_FEE_PER_GAS, INSUFFICIENT_MAX_FEE_PER_BLOB_GAS, NONCE_IS_MAX, SENDER_NOT_EOA,
// GAS_ALLOWANCE_EXCEEDED, INITCODE_SIZE_EXCEEDED, PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS,
// GASLIMIT_PRICE_PRODUCT_OVERFLOW, TYPE_3_TX_ZERO_BLOBS, TYPE_3_TX_BLOB_COUNT_EXCEEDED,
// TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH) is checked by geth's state transition or txpool on a
// transaction that decoded fine.
bool is_decoding_exception(std::string_view kind) {
    constexpr std::string_view kPrefix = "TransactionException.";
    if (kind.starts_with(kPrefix)) {
        kind.remove_prefix(kPrefix.size());
    }
    return kind.starts_with("RLP_") || kind == "TYPE_3_TX_CONTRACT_CREATION";
}

std::vector<std::string> split_alternatives(const std::string& s) {
    // "A|B" means that either exception is acceptable.
    std::vector<std::string> out;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, '|')) {
        out.push_back(cur);
    }
    return out;
}

fs::path fixtures_root() { return {PEL_FIXTURES_DIR}; }

// Folders (relative to the root) that directly hold at least one .json file, sorted.
std::vector<std::string> fixture_folders() {
    std::set<std::string> dirs;
    std::error_code ec;
    const fs::path root = fixtures_root();
    if (!fs::is_directory(root, ec)) {
        return {};
    }
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().extension() == ".json") {
            dirs.insert(fs::relative(it->path().parent_path(), root).generic_string());
        }
    }
    return {dirs.begin(), dirs.end()};
}

std::vector<fs::path> json_files(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_regular_file() && e.path().extension() == ".json") {
            out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

struct KindCount {
    size_t decoded = 0;
    size_t rejected = 0;
};

struct Counts {
    size_t files = 0;
    size_t entries = 0;
    size_t decoded = 0;   // decoded, re-encoded identically, sender recovered
    size_t rejected = 0;  // expected decoding failure, rejected
    size_t either = 0;    // alternatives mix decoding and state failures: both outcomes fine
    std::map<std::string, KindCount> by_kind;  // entries that name an exception

    void add(const Counts& o) {
        files += o.files;
        entries += o.entries;
        decoded += o.decoded;
        rejected += o.rejected;
        either += o.either;
        for (const auto& [k, v] : o.by_kind) {
            by_kind[k].decoded += v.decoded;
            by_kind[k].rejected += v.rejected;
        }
    }
};

Counts& totals() {
    static Counts c;
    return c;
}

void print_counts(std::string_view label, const Counts& c) {
    std::ostringstream out;
    out << "[txbytes] " << label << ": files=" << c.files << " entries=" << c.entries
        << " decoded+re-encoded=" << c.decoded << " rejected=" << c.rejected;
    if (c.either != 0) {
        out << " either=" << c.either;
    }
    out << '\n';
    for (const auto& [kind, kc] : c.by_kind) {
        out << "[txbytes]     " << kind << ": decoded=" << kc.decoded << " rejected=" << kc.rejected
            << '\n';
    }
    std::cout << out.str() << std::flush;
}

class TotalsPrinter : public ::testing::Environment {
  public:
    void TearDown() override {
        if (totals().files != 0) {
            print_counts("TOTAL", totals());
        }
    }
};
[[maybe_unused]] auto* const kTotalsEnv =
    ::testing::AddGlobalTestEnvironment(new TotalsPrinter);  // gtest owns it

U256 parse_u256(const json& j, std::string_view what) {
    const auto r = U256::from_hex(j.get<std::string>());
    EXPECT_TRUE(r) << what << ": " << (r ? "" : r.error().message);
    return r ? *r : U256{};
}

// Compares the fields the fixture spells out with what the decoder produced.
void check_fields(const Transaction& t, const json& txn, const json& indexes) {
    EXPECT_EQ(U256{t.nonce}, parse_u256(txn.at("nonce"), "nonce"));
    const auto gas_idx = indexes.at("gas").get<size_t>();
    const auto value_idx = indexes.at("value").get<size_t>();
    const auto data_idx = indexes.at("data").get<size_t>();
    EXPECT_EQ(U256{t.gas_limit}, parse_u256(txn.at("gasLimit").at(gas_idx), "gasLimit"));
    EXPECT_EQ(t.value, parse_u256(txn.at("value").at(value_idx), "value"));
    const auto data = from_hex(txn.at("data").at(data_idx).get<std::string>());
    ASSERT_TRUE(data) << data.error().message;
    EXPECT_EQ(t.data, *data);
    const auto to = txn.at("to").get<std::string>();
    if (to.empty()) {
        EXPECT_FALSE(t.to.has_value());
    } else {
        ASSERT_TRUE(t.to.has_value());
        EXPECT_EQ(*t.to, Address::from_hex(to).value());
    }
    if (txn.contains("maxFeePerGas")) {
        EXPECT_EQ(t.max_fee_per_gas, parse_u256(txn.at("maxFeePerGas"), "maxFeePerGas"));
        EXPECT_EQ(t.max_priority_fee_per_gas,
                  parse_u256(txn.at("maxPriorityFeePerGas"), "maxPriorityFeePerGas"));
    } else if (txn.contains("gasPrice")) {
        EXPECT_EQ(t.gas_price(), parse_u256(txn.at("gasPrice"), "gasPrice"));
    }
    if (txn.contains("blobVersionedHashes")) {
        EXPECT_EQ(t.type, TxnType::kBlob);
        EXPECT_EQ(t.blob_versioned_hashes.size(), txn.at("blobVersionedHashes").size());
    }
}

Counts run_file(const fs::path& file) {
    Counts c;
    c.files = 1;
    std::ifstream in(file);
    EXPECT_TRUE(in) << "cannot open " << file;
    json doc;
    try {
        doc = json::parse(in);
    } catch (const json::exception& e) {
        ADD_FAILURE() << file << ": " << e.what();
        return c;
    }
    for (const auto& [case_name, tcase] : doc.items()) {
        SCOPED_TRACE(case_name);
        const json& txn = tcase.at("transaction");
        const auto secret = Hash32::from_hex(txn.at("secretKey").get<std::string>());
        EXPECT_TRUE(secret) << "secretKey";
        if (!secret) {
            continue;
        }
        const auto expected_sender = crypto::address_from_secret(*secret);
        EXPECT_TRUE(expected_sender) << "secretKey is not a valid key";
        if (!expected_sender || !tcase.at("post").contains("Cancun")) {
            continue;
        }
        size_t idx = 0;
        for (const json& entry : tcase.at("post").at("Cancun")) {
            SCOPED_TRACE("post[Cancun][" + std::to_string(idx++) + "]");
            ++c.entries;
            const auto bytes = from_hex(entry.at("txbytes").get<std::string>());
            EXPECT_TRUE(bytes) << "txbytes is not hex";
            if (!bytes) {
                continue;
            }

            std::vector<std::string> kinds;
            if (entry.contains("expectException")) {
                kinds = split_alternatives(entry.at("expectException").get<std::string>());
            }
            const auto n_decoding = static_cast<size_t>(
                std::count_if(kinds.begin(), kinds.end(),
                              [](const std::string& k) { return is_decoding_exception(k); }));
            const std::string kind_label = entry.contains("expectException")
                                               ? entry.at("expectException").get<std::string>()
                                               : std::string{};

            const auto decoded = decode_transaction(*bytes);
            if (!kinds.empty() && n_decoding == kinds.size()) {
                // Every acceptable outcome is a decoding failure.
                EXPECT_FALSE(decoded) << "expected " << kind_label << " but it decoded";
                if (!decoded) {
                    ++c.rejected;
                    ++c.by_kind[kind_label].rejected;
                    std::cout << "[txbytes]   rejected " << case_name << " (" << kind_label
                              << "): " << decoded.error().message << '\n';
                }
                continue;
            }
            if (n_decoding != 0) {
                // "decoding|state" alternatives: either outcome is acceptable.
                ++c.either;
                if (!decoded) {
                    ++c.by_kind[kind_label].rejected;
                    continue;
                }
            }
            EXPECT_TRUE(decoded) << "decode failed: " << decoded.error().message
                                 << (kind_label.empty() ? "" : " (expects " + kind_label + ")");
            if (!decoded) {
                continue;
            }
            const Bytes again = encode_transaction(*decoded);
            EXPECT_EQ(to_hex(again), to_hex(*bytes)) << "re-encoding differs";
            const auto sender = recover_sender(*decoded);
            EXPECT_TRUE(sender) << "recover_sender: " << sender.error().message;
            if (sender) {
                EXPECT_EQ(sender->to_hex(), expected_sender->to_hex());
            }
            check_fields(*decoded, txn, entry.at("indexes"));
            if (again == *bytes && sender && *sender == *expected_sender) {
                ++c.decoded;
                if (!kind_label.empty()) {
                    ++c.by_kind[kind_label].decoded;
                }
            }
        }
    }
    return c;
}

TEST(TxBytesSpec, fixture_folder_exists) {
    const fs::path root = fixtures_root();
    ASSERT_TRUE(fs::is_directory(root))
        << "state-test fixtures not found at '" << root.string()
        << "': set PEL_FIXTURES_DIR (CMake cache variable) to the state-tests fixture folder";
    EXPECT_FALSE(fixture_folders().empty()) << "no .json fixtures under " << root.string();
}

class TxBytesFolder : public ::testing::TestWithParam<std::string> {};

TEST_P(TxBytesFolder, decodes_reencodes_and_recovers) {
    const fs::path dir = fixtures_root() / GetParam();
    Counts c;
    for (const fs::path& file : json_files(dir)) {
        SCOPED_TRACE(file.filename().string());
        c.add(run_file(file));
    }
    EXPECT_GT(c.entries, 0U) << "no Cancun entries in " << GetParam();
    print_counts(GetParam(), c);
    totals().add(c);
}

std::string folder_test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string s = info.param;
    for (char& ch : s) {
        if (std::isalnum(static_cast<unsigned char>(ch)) == 0) {
            ch = '_';
        }
    }
    return s;
}

INSTANTIATE_TEST_SUITE_P(StateTests, TxBytesFolder, ::testing::ValuesIn(fixture_folders()),
                         folder_test_name);
// With the fixture folder missing there are no folders; fixture_folder_exists reports that.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TxBytesFolder);

}  // namespace
}  // namespace pel
