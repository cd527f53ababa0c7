// SPDX-License-Identifier: Apache-2.0
// Checks MemState::state_root() against the Ethereum state-test fixtures without executing
// anything: a Cancun post entry with "expectException" describes a rejected transaction, so its
// post-state root ("hash") is the root of the untouched `pre` state.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "primitives/hash.hpp"
#include "primitives/hex.hpp"
#include "primitives/u256.hpp"
#include "state/mem_state.hpp"

namespace pel::state {
namespace {

namespace fs = std::filesystem;

// Loads a fixture's `pre` object (all fields hex strings). Returns an error message, empty on
// success.
std::string load_pre(const nlohmann::json& pre, MemState& state) {
    for (const auto& [addr_hex, acc] : pre.items()) {
        auto address = Address::from_hex(addr_hex);
        if (!address) return "address " + addr_hex + ": " + address.error().message;
        auto balance = U256::from_hex(acc.at("balance").get<std::string>());
        if (!balance) return "balance: " + balance.error().message;
        auto nonce = U256::from_hex(acc.at("nonce").get<std::string>());
        if (!nonce || !nonce->fits_u64()) return "nonce of " + addr_hex;
        auto code = from_hex(acc.at("code").get<std::string>());
        if (!code) return "code: " + code.error().message;
        state.set_balance(*address, *balance);
        state.set_nonce(*address, nonce->low64());
        state.set_code(*address, std::move(*code));
        for (const auto& [slot_hex, value_json] : acc.at("storage").items()) {
            auto slot = U256::from_hex(slot_hex);
            auto value = U256::from_hex(value_json.get<std::string>());
            if (!slot || !value) return "storage of " + addr_hex;
            state.set_storage(*address, *slot, *value);
        }
    }
    return {};
}

// Sum of the expectException_entries column of MANIFEST.tsv, or -1 when it is absent.
long manifest_exception_entries(const fs::path& dir) {
    std::ifstream in(dir / "MANIFEST.tsv");
    if (!in) return -1;
    std::string line;
    std::getline(in, line);  // header
    long total = 0;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string field;
        for (int i = 0; i < 6 && std::getline(fields, field, '\t'); ++i) {
        }
        if (!field.empty()) total += std::stol(field);
    }
    return total;
}

TEST(FixturePreState, rejected_transactions_leave_the_pre_state_root) {
    const fs::path dir(PEL_FIXTURES_DIR);
    if (!fs::is_directory(dir)) GTEST_SKIP() << "no fixtures at " << dir;

    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".json") {
            files.push_back(entry.path());
        }
    }
    ASSERT_FALSE(files.empty());

    long checked = 0;
    long matched = 0;
    for (const auto& file : files) {
        std::ifstream in(file);
        const nlohmann::json doc = nlohmann::json::parse(in);
        for (const auto& [name, test] : doc.items()) {
            if (!test.contains("post") || !test["post"].contains("Cancun")) continue;
            MemState pre;
            bool loaded = false;
            Hash32 pre_root;
            for (const auto& post : test["post"]["Cancun"]) {
                if (!post.contains("expectException")) continue;
                if (!loaded) {
                    const std::string err = load_pre(test.at("pre"), pre);
                    ASSERT_TRUE(err.empty()) << file << " " << name << ": " << err;
                    pre_root = pre.state_root();
                    loaded = true;
                }
                ++checked;
                auto expected = Hash32::from_hex(post.at("hash").get<std::string>());
                ASSERT_TRUE(expected.has_value()) << file << " " << name;
                if (*expected == pre_root) {
                    ++matched;
                } else {
                    ADD_FAILURE() << file.lexically_relative(dir) << " " << name << ": expected "
                                  << expected->to_hex() << ", pre-state root " << pre_root.to_hex();
                }
            }
        }
    }
    std::cout << "[ fixtures ] " << files.size() << " files, " << matched << " of " << checked
              << " rejected-transaction post roots equal the pre-state root\n";
    RecordProperty("checked", static_cast<int>(checked));
    RecordProperty("matched", static_cast<int>(matched));
    EXPECT_GT(checked, 0);
    EXPECT_EQ(matched, checked);
    if (const long manifest = manifest_exception_entries(dir); manifest >= 0) {
        EXPECT_EQ(checked, manifest) << "MANIFEST.tsv expectException_entries total";
    }
}

}  // namespace
}  // namespace pel::state
