// SPDX-License-Identifier: Apache-2.0
// Instruction bodies (STYLE.md 10.4). The interpreter's invoke<> wrapper has already checked
// stack bounds and charged the base gas from vm/opcodes.hpp; a body only does its own work and
// any dynamic gas. Three shapes, chosen by what an instruction needs:
//   void   f(StackTop)                                   pure stack arithmetic
//   Status f(StackTop, int64_t& gas, ExecState&)         may charge gas, touch state, or fail
//   Pc     f(StackTop, int64_t& gas, ExecState&, Pc pc)  moves the program counter; nullptr halts
// The wrapper moves the stack pointer by (outputs - inputs) afterwards, so a body writes its
// result into st[inputs - 1] (or push_slot() when it has no inputs). Private to vm/.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "primitives/keccak.hpp"
#include "primitives/keccak_memo.hpp"
#include "primitives/u256.hpp"
#include "vm/host.hpp"
#include "vm/internal/exec_state.hpp"
#include "vm/vm.hpp"

namespace pel::vm::internal::instr {

using Pc = const uint8_t*;

// EIP-2929 surcharges on top of the warm cost (100) already in the base gas.
inline constexpr int64_t kColdAccountSurcharge = 2600 - 100;
inline constexpr int64_t kColdSloadSurcharge = 2100 - 100;
inline constexpr int64_t kColdAccountCost = 2600;  // SELFDESTRUCT: no warm base
inline constexpr int64_t kColdSloadCost = 2100;    // SSTORE: added to the status cost
inline constexpr int64_t kCallValueCost = 9000;
inline constexpr int64_t kCallStipend = 2300;
inline constexpr int64_t kNewAccountCost = 25000;
inline constexpr int64_t kCopyWordCost = 3;
inline constexpr int64_t kKeccakWordCost = 6;
inline constexpr int64_t kLogByteCost = 8;
inline constexpr int64_t kExpByteCost = 50;
inline constexpr int64_t kInitcodeWordCost = 2;  // EIP-3860
inline constexpr int64_t kSstoreSentry = 2300;   // EIP-2200

[[nodiscard]] inline int64_t words_cost(int64_t per_word, uint64_t bytes) noexcept {
    return per_word * static_cast<int64_t>(num_words(bytes));  // bytes <= 2^32: no overflow
}

/// Charges the cold surcharge if `addr` was cold; false when out of gas.
[[gnu::always_inline]] inline bool access_account(int64_t& gas, ExecState& s, const Address& addr,
                                                  int64_t cold_cost) noexcept {
    if (s.host.access_account(addr) == AccessStatus::kCold) {
        return charge(gas, cold_cost);
    }
    return true;
}

// --- 0x00s: arithmetic -----------------------------------------------------------------------
inline Pc stop(StackTop /*unused*/, int64_t& /*unused*/, ExecState& s, Pc /*unused*/) noexcept {
    s.status = Status::kSuccess;
    return nullptr;
}
inline void add(StackTop st) noexcept { put(st[1], st[0] + st[1]); }
inline void mul(StackTop st) noexcept { put(st[1], st[0] * st[1]); }
inline void sub(StackTop st) noexcept { put(st[1], st[0] - st[1]); }
inline void div(StackTop st) noexcept { put(st[1], st[0] / st[1]); }
inline void sdiv(StackTop st) noexcept { put(st[1], pel::sdiv(st[0], st[1])); }
inline void mod(StackTop st) noexcept { put(st[1], st[0] % st[1]); }
inline void smod(StackTop st) noexcept { put(st[1], pel::smod(st[0], st[1])); }
inline void addmod(StackTop st) noexcept { put(st[2], pel::addmod(st[0], st[1], st[2])); }
inline void mulmod(StackTop st) noexcept { put(st[2], pel::mulmod(st[0], st[1], st[2])); }
inline Status exp(StackTop st, int64_t& gas, ExecState& /*unused*/) noexcept {
    if (!charge(gas, kExpByteCost * st[1].byte_width())) {
        return Status::kOutOfGas;
    }
    st[1] = pel::exp(st[0], st[1]);
    return Status::kSuccess;
}
inline void signextend(StackTop st) noexcept { put(st[1], pel::signextend(st[0], st[1])); }

// --- 0x10s: comparison and bitwise -----------------------------------------------------------
inline void lt(StackTop st) noexcept { put(st[1], U256{st[0] < st[1] ? 1U : 0U}); }
inline void gt(StackTop st) noexcept { put(st[1], U256{st[0] > st[1] ? 1U : 0U}); }
inline void slt(StackTop st) noexcept { put(st[1], U256{pel::slt(st[0], st[1]) ? 1U : 0U}); }
inline void sgt(StackTop st) noexcept { put(st[1], U256{pel::sgt(st[0], st[1]) ? 1U : 0U}); }
inline void eq(StackTop st) noexcept { put(st[1], U256{st[0] == st[1] ? 1U : 0U}); }
inline void iszero(StackTop st) noexcept { put(st[0], U256{st[0].is_zero() ? 1U : 0U}); }
inline void bit_and(StackTop st) noexcept { put(st[1], st[0] & st[1]); }
inline void bit_or(StackTop st) noexcept { put(st[1], st[0] | st[1]); }
inline void bit_xor(StackTop st) noexcept { put(st[1], st[0] ^ st[1]); }
inline void bit_not(StackTop st) noexcept { put(st[0], ~st[0]); }
inline void byte(StackTop st) noexcept { put(st[1], pel::byte(st[0], st[1])); }
inline void shl(StackTop st) noexcept { put(st[1], st[1] << st[0]); }  // EIP-145: shift on top
inline void shr(StackTop st) noexcept { put(st[1], st[1] >> st[0]); }
inline void sar(StackTop st) noexcept { put(st[1], pel::sar(st[1], st[0])); }

// --- 0x20: KECCAK256 -------------------------------------------------------------------------
/// The KeccakMemo of KECCAK256 over 64-byte inputs.
struct MappingSlotMemo {};
inline Status keccak256(StackTop st, int64_t& gas, ExecState& s) noexcept {
    if (!check_memory(gas, s.memory, st[0], st[1])) {
        return Status::kOutOfGas;
    }
    const uint64_t size = st[1].low64();
    if (!charge(gas, words_cost(kKeccakWordCost, size))) {
        return Status::kOutOfGas;
    }
    const ByteView data = size == 0 ? ByteView{} : ByteView{s.memory.data() + st[0].low64(), size};
    // 64 bytes: a Solidity mapping slot, hashed again and again (see primitives/keccak_memo.hpp).
    st[1] = to_u256(size == 64 ? KeccakMemo::local<MappingSlotMemo>().hash(data)
                               : pel::keccak256(data));
    return Status::kSuccess;
}

// --- 0x30s: environment ----------------------------------------------------------------------
/// Writes src[src_offset, src_offset + n) to dst, zero-filling past the end of src.
inline void copy_padded(uint8_t* dst, ByteView src, const U256& src_offset, uint64_t n) noexcept {
    const uint64_t start =
        src_offset.fits_u64() ? std::min<uint64_t>(src_offset.low64(), src.size()) : src.size();
    const uint64_t copied = std::min<uint64_t>(n, src.size() - start);
    if (copied != 0) {
        std::memcpy(dst, src.data() + start, copied);
    }
    if (copied < n) {
        std::memset(dst + copied, 0, n - copied);
    }
}

/// The *COPY instructions: charges memory expansion and the copy words, then copies.
inline Status copy_to_memory(int64_t& gas, ExecState& s, const U256& mem_offset,
                             const U256& src_offset, const U256& size, ByteView src) noexcept {
    if (!check_memory(gas, s.memory, mem_offset, size)) {
        return Status::kOutOfGas;
    }
    if (size.is_zero()) {
        return Status::kSuccess;
    }
    if (!charge(gas, words_cost(kCopyWordCost, size.low64()))) {
        return Status::kOutOfGas;
    }
    copy_padded(s.memory.data() + mem_offset.low64(), src, src_offset, size.low64());
    return Status::kSuccess;
}

inline Status address(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = to_u256(s.msg.recipient);
    return Status::kSuccess;
}
inline Status balance(StackTop st, int64_t& gas, ExecState& s) noexcept {
    const Address addr = to_address(st[0]);
    if (!access_account(gas, s, addr, kColdAccountSurcharge)) {
        return Status::kOutOfGas;
    }
    st[0] = s.host.get_balance(addr);
    return Status::kSuccess;
}
inline Status origin(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = to_u256(s.host.get_tx_context().origin);
    return Status::kSuccess;
}
inline Status caller(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = to_u256(s.msg.sender);
    return Status::kSuccess;
}
inline Status callvalue(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = s.msg.value;
    return Status::kSuccess;
}
inline Status calldataload(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    const ByteView input = s.msg.input;
    if (!st[0].fits_u64() || st[0].low64() >= input.size()) {
        st[0] = U256{};
        return Status::kSuccess;
    }
    const uint64_t off = st[0].low64();
    std::array<uint8_t, 32> buf{};
    std::memcpy(buf.data(), input.data() + off, std::min<uint64_t>(32, input.size() - off));
    st[0] = load_be256(buf.data());
    return Status::kSuccess;
}
inline Status calldatasize(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = U256{s.msg.input.size()};
    return Status::kSuccess;
}
inline Status calldatacopy(StackTop st, int64_t& gas, ExecState& s) noexcept {
    return copy_to_memory(gas, s, st[0], st[1], st[2], s.msg.input);
}
inline Status codesize(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = U256{s.code.code_size()};
    return Status::kSuccess;
}
inline Status codecopy(StackTop st, int64_t& gas, ExecState& s) noexcept {
    return copy_to_memory(gas, s, st[0], st[1], st[2], s.code.code_view());
}
inline Status gasprice(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = s.host.get_tx_context().gas_price;
    return Status::kSuccess;
}
inline Status extcodesize(StackTop st, int64_t& gas, ExecState& s) noexcept {
    const Address addr = to_address(st[0]);
    if (!access_account(gas, s, addr, kColdAccountSurcharge)) {
        return Status::kOutOfGas;
    }
    st[0] = U256{s.host.get_code_size(addr)};
    return Status::kSuccess;
}
inline Status extcodecopy(StackTop st, int64_t& gas, ExecState& s) noexcept {
    const Address addr = to_address(st[0]);
    if (!check_memory(gas, s.memory, st[1], st[3])) {
        return Status::kOutOfGas;
    }
    if (!st[3].is_zero() && !charge(gas, words_cost(kCopyWordCost, st[3].low64()))) {
        return Status::kOutOfGas;
    }
    if (!access_account(gas, s, addr, kColdAccountSurcharge)) {
        return Status::kOutOfGas;
    }
    if (!st[3].is_zero()) {
        copy_padded(s.memory.data() + st[1].low64(), s.host.get_code(addr), st[2], st[3].low64());
    }
    return Status::kSuccess;
}
inline Status returndatasize(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = U256{s.return_data.size()};
    return Status::kSuccess;
}
inline Status returndatacopy(StackTop st, int64_t& gas, ExecState& s) noexcept {
    // EIP-211: reading past the end of the return data is an exceptional halt, even for size 0.
    const U256& data_off = st[1];
    const U256& size = st[2];
    const uint64_t avail = s.return_data.size();
    if (!data_off.fits_u64() || !size.fits_u64() || data_off.low64() > avail ||
        size.low64() > avail - data_off.low64()) {
        return Status::kInvalidMemoryAccess;
    }
    return copy_to_memory(gas, s, st[0], data_off, size, s.return_data);
}
inline Status extcodehash(StackTop st, int64_t& gas, ExecState& s) noexcept {
    const Address addr = to_address(st[0]);
    if (!access_account(gas, s, addr, kColdAccountSurcharge)) {
        return Status::kOutOfGas;
    }
    st[0] = to_u256(s.host.get_code_hash(addr));
    return Status::kSuccess;
}

// --- 0x40s: block ----------------------------------------------------------------------------
inline Status blockhash(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    const int64_t current = s.host.get_tx_context().block_number;
    const U256& n = st[0];
    // Only the 256 most recent complete blocks are visible.
    if (n.fits_u64() && n.low64() < static_cast<uint64_t>(current) &&
        static_cast<uint64_t>(current) - n.low64() <= 256) {
        st[0] = to_u256(s.host.get_block_hash(static_cast<int64_t>(n.low64())));
    } else {
        st[0] = U256{};
    }
    return Status::kSuccess;
}
inline Status coinbase(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = to_u256(s.host.get_tx_context().coinbase);
    return Status::kSuccess;
}
inline Status timestamp(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = U256{static_cast<uint64_t>(s.host.get_tx_context().timestamp)};
    return Status::kSuccess;
}
inline Status number(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = U256{static_cast<uint64_t>(s.host.get_tx_context().block_number)};
    return Status::kSuccess;
}
inline Status prevrandao(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = to_u256(s.host.get_tx_context().prev_randao);
    return Status::kSuccess;
}
inline Status gaslimit(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = U256{static_cast<uint64_t>(s.host.get_tx_context().gas_limit)};
    return Status::kSuccess;
}
inline Status chainid(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = s.host.get_tx_context().chain_id;
    return Status::kSuccess;
}
inline Status selfbalance(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = s.host.get_balance(s.msg.recipient);
    return Status::kSuccess;
}
inline Status basefee(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = s.host.get_tx_context().base_fee;
    return Status::kSuccess;
}
inline Status blobhash(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    const auto hashes = s.host.get_tx_context().blob_hashes;
    st[0] =
        st[0].fits_u64() && st[0].low64() < hashes.size() ? to_u256(hashes[st[0].low64()]) : U256{};
    return Status::kSuccess;
}
inline Status blobbasefee(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = s.host.get_tx_context().blob_base_fee;
    return Status::kSuccess;
}

// --- 0x50s: stack, memory, storage, flow -----------------------------------------------------
inline void pop(StackTop /*unused*/) noexcept {}
inline Status mload(StackTop st, int64_t& gas, ExecState& s) noexcept {
    if (!check_memory(gas, s.memory, st[0], U256{32})) {
        return Status::kOutOfGas;
    }
    put(st[0], load_be256(s.memory.data() + st[0].low64()));
    return Status::kSuccess;
}
inline Status mstore(StackTop st, int64_t& gas, ExecState& s) noexcept {
    if (!check_memory(gas, s.memory, st[0], U256{32})) {
        return Status::kOutOfGas;
    }
    store_be256(s.memory.data() + st[0].low64(), st[1]);
    return Status::kSuccess;
}
inline Status mstore8(StackTop st, int64_t& gas, ExecState& s) noexcept {
    if (!check_memory(gas, s.memory, st[0], U256{1})) {
        return Status::kOutOfGas;
    }
    s.memory[st[0].low64()] = static_cast<uint8_t>(st[1].low64());
    return Status::kSuccess;
}
inline Status sload(StackTop st, int64_t& gas, ExecState& s) noexcept {
    if (s.host.access_storage(s.msg.recipient, st[0]) == AccessStatus::kCold &&
        !charge(gas, kColdSloadSurcharge)) {
        return Status::kOutOfGas;
    }
    st[0] = s.host.get_storage(s.msg.recipient, st[0]);
    return Status::kSuccess;
}

/// EIP-2200 with EIP-2929 and EIP-3529 figures: the warm cost and the refund delta per status.
struct SstoreCost {
    int64_t gas;
    int64_t refund;
};
inline constexpr std::array<SstoreCost, 9> kSstoreCosts = {{
    {100, 0},             // kAssigned
    {20000, 0},           // kAdded
    {2900, 4800},         // kDeleted
    {2900, 0},            // kModified
    {100, -4800},         // kDeletedAdded
    {100, 4800},          // kModifiedDeleted
    {100, -4800 + 2800},  // kDeletedRestored: undo the clear refund, restore 2900 - 100
    {100, 20000 - 100},   // kAddedDeleted
    {100, 2900 - 100},    // kModifiedRestored
}};
static_assert(static_cast<size_t>(StorageStatus::kModifiedRestored) == 8);

inline Status sstore(StackTop st, int64_t& gas, ExecState& s) noexcept {
    if (s.msg.is_static) {
        return Status::kStaticModeViolation;
    }
    if (gas <= kSstoreSentry) {
        return Status::kOutOfGas;  // EIP-2200 sentry
    }
    int64_t cost = 0;
    if (s.host.access_storage(s.msg.recipient, st[0]) == AccessStatus::kCold) {
        cost = kColdSloadCost;
    }
    const StorageStatus status = s.host.set_storage(s.msg.recipient, st[0], st[1]);
    const SstoreCost& c = kSstoreCosts[static_cast<size_t>(status)];
    s.gas_refund += c.refund;
    if (!charge(gas, cost + c.gas)) {
        return Status::kOutOfGas;
    }
    return Status::kSuccess;
}
inline Pc jump_to(ExecState& s, const U256& dst) noexcept {
    if (!dst.fits_u64() || !s.code.is_jumpdest(dst.low64())) {
        s.status = Status::kBadJumpDestination;
        return nullptr;
    }
    return s.code.code() + dst.low64();
}
inline Pc jump(StackTop st, int64_t& /*unused*/, ExecState& s, Pc /*unused*/) noexcept {
    return jump_to(s, st[0]);
}
inline Pc jumpi(StackTop st, int64_t& /*unused*/, ExecState& s, Pc pc) noexcept {
    return st[1].is_zero() ? pc + 1 : jump_to(s, st[0]);
}
inline Pc pc(StackTop st, int64_t& /*unused*/, ExecState& s, Pc pc) noexcept {
    st.push_slot() = U256{static_cast<uint64_t>(pc - s.code.code())};
    return pc + 1;
}
inline Status msize(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st.push_slot() = U256{s.memory.size()};
    return Status::kSuccess;
}
inline Status gas(StackTop st, int64_t& gas, ExecState& /*unused*/) noexcept {
    st.push_slot() = U256{static_cast<uint64_t>(gas)};
    return Status::kSuccess;
}
inline void jumpdest(StackTop /*unused*/) noexcept {}
inline Status tload(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    st[0] = s.host.get_transient_storage(s.msg.recipient, st[0]);
    return Status::kSuccess;
}
inline Status tstore(StackTop st, int64_t& /*unused*/, ExecState& s) noexcept {
    if (s.msg.is_static) {
        return Status::kStaticModeViolation;
    }
    s.host.set_transient_storage(s.msg.recipient, st[0], st[1]);
    return Status::kSuccess;
}
inline Status mcopy(StackTop st, int64_t& gas, ExecState& s) noexcept {
    // EIP-5656: memory grows to cover both regions; the copy behaves as if through a buffer.
    const U256& dst = st[0];
    const U256& src = st[1];
    const U256& size = st[2];
    if (!check_memory(gas, s.memory, src, size) || !check_memory(gas, s.memory, dst, size)) {
        return Status::kOutOfGas;
    }
    if (size.is_zero()) {
        return Status::kSuccess;
    }
    if (!charge(gas, words_cost(kCopyWordCost, size.low64()))) {
        return Status::kOutOfGas;
    }
    std::memmove(s.memory.data() + dst.low64(), s.memory.data() + src.low64(), size.low64());
    return Status::kSuccess;
}

// --- 0x5f-0x9f: PUSH, DUP, SWAP --------------------------------------------------------------
inline void push0(StackTop st) noexcept { put(st.push_slot(), U256{}); }

/// Reads N big-endian immediate bytes at p. The code is padded, so p + N is always readable.
template <size_t N>
[[gnu::always_inline]] inline U256 load_immediate(const uint8_t* p) noexcept {
    U256 r;
    constexpr size_t kFull = N / 8;
    constexpr size_t kRest = N % 8;
    const uint8_t* end = p + N;
    for (size_t i = 0; i < kFull; ++i) {
        r.limbs[i] = load_be64(end - 8 * (i + 1));
    }
    if constexpr (kRest != 0) {
        uint64_t v = 0;
        for (size_t j = 0; j < kRest; ++j) {
            v = (v << 8) | p[j];
        }
        r.limbs[kFull] = v;
    }
    return r;
}
template <size_t N>
inline Pc push(StackTop st, int64_t& /*unused*/, ExecState& /*unused*/, Pc pc) noexcept {
    put(st.push_slot(), load_immediate<N>(pc + 1));
    return pc + 1 + N;
}
template <size_t N>
inline void dup(StackTop st) noexcept {
    put(st.push_slot(), st[N - 1]);
}
template <size_t N>
inline void swap(StackTop st) noexcept {
    U256& a = st[0];
    U256& b = st[N];
    for (size_t i = 0; i < 4; ++i) {
        std::swap(a.limbs[i], b.limbs[i]);
    }
}

// --- 0xa0s: LOG ------------------------------------------------------------------------------
template <size_t N>
inline Status log(StackTop st, int64_t& gas, ExecState& s) noexcept {
    if (s.msg.is_static) {
        return Status::kStaticModeViolation;
    }
    if (!check_memory(gas, s.memory, st[0], st[1])) {
        return Status::kOutOfGas;
    }
    const uint64_t size = st[1].low64();
    if (!st[1].is_zero() && !charge(gas, kLogByteCost * static_cast<int64_t>(size))) {
        return Status::kOutOfGas;
    }
    std::array<Hash32, N> topics{};
    for (size_t i = 0; i < N; ++i) {
        topics[i] = to_hash32(st[2 + i]);
    }
    const ByteView data =
        st[1].is_zero() ? ByteView{} : ByteView{s.memory.data() + st[0].low64(), size};
    s.host.emit_log(s.msg.recipient, data, topics);
    return Status::kSuccess;
}

// --- 0xf0s: calls, creates, halts ------------------------------------------------------------
/// EIP-150: all but one 64th of the gas left.
[[nodiscard]] constexpr int64_t all_but_64th(int64_t gas) noexcept { return gas - gas / 64; }

[[nodiscard]] inline ByteView memory_view(const ExecState& s, const U256& off, const U256& size) {
    return size.is_zero() ? ByteView{} : ByteView{s.memory.data() + off.low64(), size.low64()};
}

/// CALL, CALLCODE, DELEGATECALL and STATICCALL (kCall with IsStatic).
template <CallKind Kind, bool IsStatic>
inline Status call_impl(StackTop st, int64_t& gas, ExecState& s) noexcept {
    constexpr bool kHasValue =
        Kind == CallKind::kCallCode || (Kind == CallKind::kCall && !IsStatic);
    constexpr size_t kArgs = kHasValue ? 3 : 2;
    const U256 gas_requested = st[0];
    const Address dst = to_address(st[1]);
    const U256 value = kHasValue ? st[2] : U256{};
    const U256 in_off = st[kArgs];
    const U256 in_size = st[kArgs + 1];
    const U256 out_off = st[kArgs + 2];
    const U256 out_size = st[kArgs + 3];
    U256& result = st[kArgs + 3];
    const bool has_value = !value.is_zero();

    if (Kind == CallKind::kCall && s.msg.is_static && has_value) {
        return Status::kStaticModeViolation;
    }
    if (!check_memory(gas, s.memory, in_off, in_size) ||
        !check_memory(gas, s.memory, out_off, out_size)) {
        return Status::kOutOfGas;
    }
    if (!access_account(gas, s, dst, kColdAccountSurcharge)) {
        return Status::kOutOfGas;
    }
    if (has_value) {
        int64_t cost = kCallValueCost;
        if (Kind == CallKind::kCall && !s.host.account_exists(dst)) {
            cost += kNewAccountCost;
        }
        if (!charge(gas, cost)) {
            return Status::kOutOfGas;
        }
    }

    const int64_t cap = all_but_64th(gas);
    int64_t call_gas =
        gas_requested.fits_u64() && gas_requested.low64() < static_cast<uint64_t>(cap)
            ? static_cast<int64_t>(gas_requested.low64())
            : cap;
    gas -= call_gas;
    if (has_value) {
        call_gas += kCallStipend;
    }

    result = U256{};
    s.return_data.clear();

    Message m;
    m.kind = Kind;
    m.is_static = IsStatic || s.msg.is_static;
    m.depth = s.msg.depth + 1;
    m.gas = call_gas;
    m.code_address = dst;
    m.input = memory_view(s, in_off, in_size);
    if constexpr (Kind == CallKind::kCall) {
        m.recipient = dst;
        m.sender = s.msg.recipient;
        m.value = value;
    } else if constexpr (Kind == CallKind::kCallCode) {
        m.recipient = s.msg.recipient;
        m.sender = s.msg.recipient;
        m.value = value;
    } else {  // kDelegateCall: runs in the caller's context with the caller's caller and value
        m.recipient = s.msg.recipient;
        m.sender = s.msg.sender;
        m.value = s.msg.value;
    }
    // Depth and balance are checked before any state changes; the forwarded gas comes back.
    if (s.msg.depth >= kMaxCallDepth) [[unlikely]] {
        s.host.call_failed(m, Status::kCallDepthExceeded);
        gas += call_gas;
        return Status::kSuccess;
    }
    if (has_value && s.host.get_balance(s.msg.recipient) < value) {
        s.host.call_failed(m, Status::kInsufficientBalance);
        gas += call_gas;
        return Status::kSuccess;
    }

    ExecResult r = s.host.call(m);
    if (!out_size.is_zero()) {
        const uint64_t n = std::min<uint64_t>(out_size.low64(), r.output.size());
        if (n != 0) {
            std::memcpy(s.memory.data() + out_off.low64(), r.output.data(), n);
        }
    }
    gas += r.gas_left;
    if (r.status == Status::kSuccess) {
        s.gas_refund += r.gas_refund;
        result = U256{1};
    }
    s.return_data = std::move(r.output);
    return Status::kSuccess;
}
inline Status call(StackTop st, int64_t& gas, ExecState& s) noexcept {
    return call_impl<CallKind::kCall, false>(st, gas, s);
}
inline Status callcode(StackTop st, int64_t& gas, ExecState& s) noexcept {
    return call_impl<CallKind::kCallCode, false>(st, gas, s);
}
inline Status delegatecall(StackTop st, int64_t& gas, ExecState& s) noexcept {
    return call_impl<CallKind::kDelegateCall, false>(st, gas, s);
}
inline Status staticcall(StackTop st, int64_t& gas, ExecState& s) noexcept {
    return call_impl<CallKind::kCall, true>(st, gas, s);
}

/// CREATE and CREATE2.
template <CallKind Kind>
inline Status create_impl(StackTop st, int64_t& gas, ExecState& s) noexcept {
    constexpr bool kIsCreate2 = Kind == CallKind::kCreate2;
    if (s.msg.is_static) {
        return Status::kStaticModeViolation;
    }
    const U256 value = st[0];
    const U256 off = st[1];
    const U256 size = st[2];
    U256& result = st[kIsCreate2 ? 3 : 2];
    if (!check_memory(gas, s.memory, off, size)) {
        return Status::kOutOfGas;
    }
    if (size > U256{kMaxInitcodeSize}) {
        return Status::kOutOfGas;  // EIP-3860
    }
    const uint64_t n = size.low64();
    int64_t cost = words_cost(kInitcodeWordCost, n);
    if constexpr (kIsCreate2) {
        cost += words_cost(kKeccakWordCost, n);  // address hashing
    }
    if (!charge(gas, cost)) {
        return Status::kOutOfGas;
    }

    Hash32 salt;
    if constexpr (kIsCreate2) {
        salt = to_hash32(st[3]);
    }
    result = U256{};
    s.return_data.clear();

    Message m;
    m.kind = Kind;
    m.depth = s.msg.depth + 1;
    m.gas = all_but_64th(gas);
    m.sender = s.msg.recipient;
    m.input = memory_view(s, off, size);
    m.value = value;
    m.salt = salt;
    if (s.msg.depth >= kMaxCallDepth) [[unlikely]] {
        s.host.call_failed(m, Status::kCallDepthExceeded);
        return Status::kSuccess;
    }
    if (!value.is_zero() && s.host.get_balance(s.msg.recipient) < value) {
        s.host.call_failed(m, Status::kInsufficientBalance);
        return Status::kSuccess;
    }
    gas -= m.gas;

    ExecResult r = s.host.call(m);
    gas += r.gas_left;
    if (r.status == Status::kSuccess) {
        s.gas_refund += r.gas_refund;
        result = to_u256(r.create_address);
    } else if (r.status == Status::kRevert) {
        s.return_data = std::move(r.output);  // only a revert's data is visible (EIP-211)
    }
    return Status::kSuccess;
}
inline Status create(StackTop st, int64_t& gas, ExecState& s) noexcept {
    return create_impl<CallKind::kCreate>(st, gas, s);
}
inline Status create2(StackTop st, int64_t& gas, ExecState& s) noexcept {
    return create_impl<CallKind::kCreate2>(st, gas, s);
}

inline Pc halt_with_output(StackTop st, int64_t& gas, ExecState& s, Status status) noexcept {
    if (!check_memory(gas, s.memory, st[0], st[1])) {
        s.status = Status::kOutOfGas;
        return nullptr;
    }
    s.status = status;
    if (!st[1].is_zero()) {
        s.output_offset = st[0].low64();
        s.output_size = st[1].low64();
    }
    return nullptr;
}
inline Pc ret(StackTop st, int64_t& gas, ExecState& s, Pc /*unused*/) noexcept {
    return halt_with_output(st, gas, s, Status::kSuccess);
}
inline Pc revert(StackTop st, int64_t& gas, ExecState& s, Pc /*unused*/) noexcept {
    return halt_with_output(st, gas, s, Status::kRevert);
}
inline Pc invalid(StackTop /*unused*/, int64_t& /*unused*/, ExecState& s, Pc /*unused*/) noexcept {
    s.status = Status::kInvalidInstruction;
    return nullptr;
}
inline Pc selfdestruct(StackTop st, int64_t& gas, ExecState& s, Pc /*unused*/) noexcept {
    if (s.msg.is_static) {
        s.status = Status::kStaticModeViolation;
        return nullptr;
    }
    const Address beneficiary = to_address(st[0]);
    bool ok = access_account(gas, s, beneficiary, kColdAccountCost);
    // Funds sent to an account that does not exist create it (EIP-161 wording).
    if (ok && !s.host.account_exists(beneficiary) &&
        !s.host.get_balance(s.msg.recipient).is_zero()) {
        ok = charge(gas, kNewAccountCost);
    }
    if (!ok) {
        s.status = Status::kOutOfGas;
        return nullptr;
    }
    (void)s.host.selfdestruct(s.msg.recipient, beneficiary);  // EIP-6780 rules are the host's
    s.status = Status::kSuccess;
    return nullptr;
}

}  // namespace pel::vm::internal::instr
