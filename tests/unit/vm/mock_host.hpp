// SPDX-License-Identifier: Apache-2.0
// MockHost: an in-memory vm::Host for interpreter tests. Keeps balances, code and storage in maps,
// computes EIP-2200 storage statuses from original/current/new values, tracks EIP-2929 warm sets,
// and records logs and calls. Nested calls run the callee's code on the same Vm (no snapshots:
// tests that need revert semantics do not use nesting), or return a canned result.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "primitives/keccak.hpp"
#include "vm/host.hpp"
#include "vm/vm.hpp"

namespace pel::vm::test {

struct MockAccount {
    U256 balance;
    uint64_t nonce = 0;
    Bytes code;
    std::map<U256, U256> storage;
    std::map<U256, U256> original;  ///< storage at transaction start
    std::map<U256, U256> transient;
};

struct RecordedLog {
    Address addr;
    Bytes data;
    std::vector<Hash32> topics;
};

struct RecordedCall {
    Message msg;
    Bytes input;  ///< a copy: msg.input is borrowed
};

class MockHost final : public Host {
  public:
    std::map<Address, MockAccount> accounts;
    std::set<Address> warm_accounts;
    std::set<std::pair<Address, U256>> warm_slots;
    std::vector<RecordedLog> logs;
    std::vector<RecordedCall> calls;
    std::vector<std::pair<Address, Address>> selfdestructs;
    TxContext tx;
    std::vector<Hash32> blob_hashes;
    /// When set, call() returns this (with gas_left defaulting to the forwarded gas if negative).
    std::optional<ExecResult> call_result;
    /// When set (and no call_result), call() runs the callee's code on this Vm.
    Vm* vm = nullptr;
    Address create_address = Address{{0xcc}};

    bool account_exists(const Address& addr) noexcept override {
        const auto it = accounts.find(addr);
        return it != accounts.end() &&
               (!it->second.balance.is_zero() || it->second.nonce != 0 || !it->second.code.empty());
    }
    U256 get_balance(const Address& addr) noexcept override {
        const auto it = accounts.find(addr);
        return it == accounts.end() ? U256{} : it->second.balance;
    }
    size_t get_code_size(const Address& addr) noexcept override {
        const auto it = accounts.find(addr);
        return it == accounts.end() ? 0 : it->second.code.size();
    }
    Hash32 get_code_hash(const Address& addr) noexcept override {
        if (!account_exists(addr)) {
            return Hash32{};
        }
        return keccak256(accounts[addr].code);
    }
    ByteView get_code(const Address& addr) noexcept override {
        const auto it = accounts.find(addr);
        return it == accounts.end() ? ByteView{} : ByteView{it->second.code};
    }
    U256 get_storage(const Address& addr, const U256& key) noexcept override {
        const auto& st = accounts[addr].storage;
        const auto it = st.find(key);
        return it == st.end() ? U256{} : it->second;
    }
    StorageStatus set_storage(const Address& addr, const U256& key,
                              const U256& value) noexcept override {
        MockAccount& acc = accounts[addr];
        const U256 current = acc.storage[key];
        const U256 original = acc.original.contains(key) ? acc.original[key] : current;
        acc.storage[key] = value;
        return storage_status(original, current, value);
    }
    U256 get_transient_storage(const Address& addr, const U256& key) noexcept override {
        return accounts[addr].transient[key];
    }
    void set_transient_storage(const Address& addr, const U256& key,
                               const U256& value) noexcept override {
        accounts[addr].transient[key] = value;
    }
    bool selfdestruct(const Address& addr, const Address& beneficiary) noexcept override {
        selfdestructs.emplace_back(addr, beneficiary);
        return true;
    }
    ExecResult call(const Message& msg) noexcept override {
        calls.push_back({msg, Bytes(msg.input.begin(), msg.input.end())});
        if (call_result) {
            ExecResult r = *call_result;
            if (r.gas_left < 0) {
                r.gas_left = msg.gas;
            }
            if (msg.kind == CallKind::kCreate || msg.kind == CallKind::kCreate2) {
                r.create_address = create_address;
            }
            return r;
        }
        if (vm != nullptr && msg.kind != CallKind::kCreate && msg.kind != CallKind::kCreate2) {
            const Bytes code = accounts[msg.code_address].code;  // copy: the map may change
            Message m = msg;
            return vm->execute(*this, m, code, nullptr);
        }
        ExecResult r;
        r.gas_left = msg.gas;
        return r;
    }
    const TxContext& get_tx_context() noexcept override {
        tx.blob_hashes = blob_hashes;
        return tx;
    }
    Hash32 get_block_hash(int64_t block_number) noexcept override {
        Hash32 h;
        h.bytes[31] = static_cast<uint8_t>(block_number);
        h.bytes[0] = 0xbb;
        return h;
    }
    void emit_log(const Address& addr, ByteView data,
                  std::span<const Hash32> topics) noexcept override {
        logs.push_back({addr, Bytes(data.begin(), data.end()),
                        std::vector<Hash32>(topics.begin(), topics.end())});
    }
    AccessStatus access_account(const Address& addr) noexcept override {
        return warm_accounts.insert(addr).second ? AccessStatus::kCold : AccessStatus::kWarm;
    }
    AccessStatus access_storage(const Address& addr, const U256& key) noexcept override {
        return warm_slots.insert({addr, key}).second ? AccessStatus::kCold : AccessStatus::kWarm;
    }
};

}  // namespace pel::vm::test
