// SPDX-License-Identifier: Apache-2.0
// A tiny bytecode builder for VM tests: Code objects concatenate with +, and helpers emit the
// usual push/store/return sequences.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"
#include "vm/opcodes.hpp"

namespace pel::vm::test {

struct Code {
    Bytes bytes;

    Code() = default;
    Code(Opcode op) : bytes{static_cast<uint8_t>(op)} {}  // NOLINT(google-explicit-constructor)

    friend Code operator+(Code a, const Code& b) {
        a += b;
        return a;
    }
    // Byte by byte: GCC 12 at -O3 reports a bogus -Warray-bounds for vector::insert here.
    Code& operator+=(const Code& b) {
        bytes.reserve(bytes.size() + b.bytes.size());
        for (const uint8_t x : b.bytes) {
            bytes.push_back(x);
        }
        return *this;
    }
    [[nodiscard]] size_t size() const { return bytes.size(); }
};

inline Code operator+(Opcode a, Opcode b) { return Code{a} + Code{b}; }
inline Code operator+(Code a, Opcode b) { return std::move(a) + Code{b}; }

/// Raw bytes.
inline Code raw(std::initializer_list<uint8_t> b) {
    Code c;
    c.bytes.assign(b.begin(), b.end());
    return c;
}

/// PUSHn with exactly `n` bytes of `v` (big-endian, low-order bytes kept).
inline Code push_n(size_t n, const U256& v) {
    std::array<uint8_t, 32> buf{};
    v.to_be32(buf.data());
    Code c;
    c.bytes.resize(n + 1);
    c.bytes[0] = static_cast<uint8_t>(0x5f + n);
    for (size_t i = 0; i < n; ++i) {
        c.bytes[1 + i] = buf[32 - n + i];
    }
    return c;
}
/// The shortest PUSH1..PUSH32 for v (PUSH1 for zero, so gas is always 3).
inline Code push(const U256& v) {
    const size_t n = v.byte_width() == 0 ? 1 : v.byte_width();
    return push_n(n, v);
}
inline Code push(uint64_t v) { return push(U256{v}); }
inline Code push(const Address& a) { return push_n(20, U256::from_be_bytes(a.view())); }

/// MSTORE(offset, value).
inline Code mstore(uint64_t offset, const U256& value) {
    return push(value) + push(offset) + Opcode::kMstore;
}
/// Stores the top of the stack at memory 0 and returns those 32 bytes.
inline Code ret_top() { return push(0) + Opcode::kMstore + push(32) + push(0) + Opcode::kReturn; }
/// RETURN(offset, size).
inline Code ret(uint64_t offset, uint64_t size) {
    return push(size) + push(offset) + Opcode::kReturn;
}
/// Repeats `c` n times.
inline Code repeat(const Code& c, size_t n) {
    Code out;
    for (size_t i = 0; i < n; ++i) {
        out += c;
    }
    return out;
}

inline Address make_address(uint64_t n) {
    Address a;
    for (size_t i = 0; i < 8; ++i) {
        a.bytes[19 - i] = static_cast<uint8_t>(n >> (8 * i));
    }
    return a;
}

}  // namespace pel::vm::test
