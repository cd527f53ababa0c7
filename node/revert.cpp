// SPDX-License-Identifier: Apache-2.0
#include "node/revert.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "primitives/u256.hpp"
#include "vm/host.hpp"

namespace pel::node {

namespace {

constexpr std::array<uint8_t, 4> kErrorSelector{0x08, 0xc3, 0x79, 0xa0};  // Error(string)
constexpr std::array<uint8_t, 4> kPanicSelector{0x4e, 0x48, 0x7b, 0x71};  // Panic(uint256)

/// solc's panic codes (Solidity docs, "Panic via assert and Error via require").
std::optional<std::string_view> panic_text(uint64_t code) {
    switch (code) {
        case 0x00:
            return "generic panic";
        case 0x01:
            return "assert(false)";
        case 0x11:
            return "arithmetic underflow or overflow";
        case 0x12:
            return "division or modulo by zero";
        case 0x21:
            return "enum overflow";
        case 0x22:
            return "invalid encoded storage byte array accessed";
        case 0x31:
            return "out-of-bounds array access; popping on an empty array";
        case 0x32:
            return "out-of-bounds access of an array or bytesN";
        case 0x41:
            return "out of memory";
        case 0x51:
            return "uninitialized function";
        default:
            return std::nullopt;
    }
}

/// A 32-byte ABI word as a size, if it fits comfortably.
std::optional<size_t> abi_size(ByteView word) {
    const U256 v = U256::from_be_bytes(word);
    if (!v.fits_u64() || v.low64() > (uint64_t{1} << 32)) {
        return std::nullopt;
    }
    return static_cast<size_t>(v.low64());
}

}  // namespace

std::optional<std::string> decode_revert_reason(ByteView output) {
    if (output.size() < 4) {
        return std::nullopt;
    }
    const ByteView selector = output.first(4);
    const ByteView args = output.subspan(4);
    if (equal(selector, kErrorSelector)) {
        // ABI: offset word, then at the offset a length word and the bytes.
        if (args.size() < 32) {
            return std::nullopt;
        }
        const auto offset = abi_size(args.first(32));
        if (!offset || *offset > args.size() || args.size() - *offset < 32) {
            return std::nullopt;
        }
        const auto len = abi_size(args.subspan(*offset, 32));
        const size_t start = *offset + 32;
        if (!len || *len > args.size() - start) {
            return std::nullopt;
        }
        const ByteView text = args.subspan(start, *len);
        return std::string(text.begin(), text.end());
    }
    if (equal(selector, kPanicSelector)) {
        if (args.size() < 32) {
            return std::nullopt;
        }
        const U256 code = U256::from_be_bytes(args.first(32));
        if (code.fits_u64()) {
            if (const auto t = panic_text(code.low64())) {
                return std::string(*t);
            }
        }
        return "unknown panic code: " + code.to_hex();
    }
    return std::nullopt;
}

std::string revert_message(ByteView output) {
    if (auto reason = decode_revert_reason(output)) {
        return "execution reverted: " + *reason;
    }
    return "execution reverted";
}

std::string halt_message(vm::Status s) {
    using S = vm::Status;
    switch (s) {
        case S::kSuccess:
            return "";
        case S::kRevert:
            return "execution reverted";
        case S::kOutOfGas:
            return "out of gas";
        case S::kInvalidInstruction:
            return "invalid opcode: INVALID";
        case S::kUndefinedInstruction:
            return "invalid opcode";
        case S::kStackOverflow:
            return "stack limit reached 1024 (1023)";
        case S::kStackUnderflow:
            return "stack underflow";
        case S::kBadJumpDestination:
            return "invalid jump destination";
        case S::kInvalidMemoryAccess:
            return "return data out of bounds";
        case S::kCallDepthExceeded:
            return "max call depth exceeded";
        case S::kStaticModeViolation:
            return "write protection";
        case S::kPrecompileFailure:
            return "precompile failed";
        case S::kContractValidationFailure:
            return "invalid code";
        case S::kInsufficientBalance:
            return "insufficient balance for transfer";
        default:
            return "execution failed";
    }
}

}  // namespace pel::node
