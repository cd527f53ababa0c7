// SPDX-License-Identifier: Apache-2.0
// The Cancun instruction set: one X-macro list (STYLE.md 10.3) generates the Opcode enum, the
// constexpr traits table below and the interpreter's dispatch table. Tests and tools (a
// disassembler) read the table; nothing here allocates.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

namespace pel::vm {

// clang-format off
/// X(enumerator, value, name, base gas, stack inputs, stack outputs, handler)
/// Base gas is the part known before execution. Dynamic parts are charged by the handler:
/// memory expansion, copy and hashing words, EXP bytes, LOG data bytes, EIP-2929 cold surcharges
/// (the listed base of BALANCE, EXT*, SLOAD and CALL* is the warm cost, 100), SSTORE in full,
/// value transfer and new-account costs. The handler column names a function in the
/// interpreter (vm/internal/instructions.hpp); it is meaningful only there.
#define PEL_OPCODES(X)                                                         \
    X(kStop,           0x00, "STOP",           0,     0,  0, stop)             \
    X(kAdd,            0x01, "ADD",            3,     2,  1, add)              \
    X(kMul,            0x02, "MUL",            5,     2,  1, mul)              \
    X(kSub,            0x03, "SUB",            3,     2,  1, sub)              \
    X(kDiv,            0x04, "DIV",            5,     2,  1, div)              \
    X(kSdiv,           0x05, "SDIV",           5,     2,  1, sdiv)             \
    X(kMod,            0x06, "MOD",            5,     2,  1, mod)              \
    X(kSmod,           0x07, "SMOD",           5,     2,  1, smod)             \
    X(kAddmod,         0x08, "ADDMOD",         8,     3,  1, addmod)           \
    X(kMulmod,         0x09, "MULMOD",         8,     3,  1, mulmod)           \
    X(kExp,            0x0a, "EXP",            10,    2,  1, exp)              \
    X(kSignextend,     0x0b, "SIGNEXTEND",     5,     2,  1, signextend)       \
    X(kLt,             0x10, "LT",             3,     2,  1, lt)               \
    X(kGt,             0x11, "GT",             3,     2,  1, gt)               \
    X(kSlt,            0x12, "SLT",            3,     2,  1, slt)              \
    X(kSgt,            0x13, "SGT",            3,     2,  1, sgt)              \
    X(kEq,             0x14, "EQ",             3,     2,  1, eq)               \
    X(kIszero,         0x15, "ISZERO",         3,     1,  1, iszero)           \
    X(kAnd,            0x16, "AND",            3,     2,  1, bit_and)          \
    X(kOr,             0x17, "OR",             3,     2,  1, bit_or)           \
    X(kXor,            0x18, "XOR",            3,     2,  1, bit_xor)          \
    X(kNot,            0x19, "NOT",            3,     1,  1, bit_not)          \
    X(kByte,           0x1a, "BYTE",           3,     2,  1, byte)             \
    X(kShl,            0x1b, "SHL",            3,     2,  1, shl)              \
    X(kShr,            0x1c, "SHR",            3,     2,  1, shr)              \
    X(kSar,            0x1d, "SAR",            3,     2,  1, sar)              \
    X(kKeccak256,      0x20, "KECCAK256",      30,    2,  1, keccak256)        \
    X(kAddress,        0x30, "ADDRESS",        2,     0,  1, address)          \
    X(kBalance,        0x31, "BALANCE",        100,   1,  1, balance)          \
    X(kOrigin,         0x32, "ORIGIN",         2,     0,  1, origin)           \
    X(kCaller,         0x33, "CALLER",         2,     0,  1, caller)           \
    X(kCallvalue,      0x34, "CALLVALUE",      2,     0,  1, callvalue)        \
    X(kCalldataload,   0x35, "CALLDATALOAD",   3,     1,  1, calldataload)     \
    X(kCalldatasize,   0x36, "CALLDATASIZE",   2,     0,  1, calldatasize)     \
    X(kCalldatacopy,   0x37, "CALLDATACOPY",   3,     3,  0, calldatacopy)     \
    X(kCodesize,       0x38, "CODESIZE",       2,     0,  1, codesize)         \
    X(kCodecopy,       0x39, "CODECOPY",       3,     3,  0, codecopy)         \
    X(kGasprice,       0x3a, "GASPRICE",       2,     0,  1, gasprice)         \
    X(kExtcodesize,    0x3b, "EXTCODESIZE",    100,   1,  1, extcodesize)      \
    X(kExtcodecopy,    0x3c, "EXTCODECOPY",    100,   4,  0, extcodecopy)      \
    X(kReturndatasize, 0x3d, "RETURNDATASIZE", 2,     0,  1, returndatasize)   \
    X(kReturndatacopy, 0x3e, "RETURNDATACOPY", 3,     3,  0, returndatacopy)   \
    X(kExtcodehash,    0x3f, "EXTCODEHASH",    100,   1,  1, extcodehash)      \
    X(kBlockhash,      0x40, "BLOCKHASH",      20,    1,  1, blockhash)        \
    X(kCoinbase,       0x41, "COINBASE",       2,     0,  1, coinbase)         \
    X(kTimestamp,      0x42, "TIMESTAMP",      2,     0,  1, timestamp)        \
    X(kNumber,         0x43, "NUMBER",         2,     0,  1, number)           \
    X(kPrevrandao,     0x44, "PREVRANDAO",     2,     0,  1, prevrandao)       \
    X(kGaslimit,       0x45, "GASLIMIT",       2,     0,  1, gaslimit)         \
    X(kChainid,        0x46, "CHAINID",        2,     0,  1, chainid)          \
    X(kSelfbalance,    0x47, "SELFBALANCE",    5,     0,  1, selfbalance)      \
    X(kBasefee,        0x48, "BASEFEE",        2,     0,  1, basefee)          \
    X(kBlobhash,       0x49, "BLOBHASH",       3,     1,  1, blobhash)         \
    X(kBlobbasefee,    0x4a, "BLOBBASEFEE",    2,     0,  1, blobbasefee)      \
    X(kPop,            0x50, "POP",            2,     1,  0, pop)              \
    X(kMload,          0x51, "MLOAD",          3,     1,  1, mload)            \
    X(kMstore,         0x52, "MSTORE",         3,     2,  0, mstore)           \
    X(kMstore8,        0x53, "MSTORE8",        3,     2,  0, mstore8)          \
    X(kSload,          0x54, "SLOAD",          100,   1,  1, sload)            \
    X(kSstore,         0x55, "SSTORE",         0,     2,  0, sstore)           \
    X(kJump,           0x56, "JUMP",           8,     1,  0, jump)             \
    X(kJumpi,          0x57, "JUMPI",          10,    2,  0, jumpi)            \
    X(kPc,             0x58, "PC",             2,     0,  1, pc)               \
    X(kMsize,          0x59, "MSIZE",          2,     0,  1, msize)            \
    X(kGas,            0x5a, "GAS",            2,     0,  1, gas)              \
    X(kJumpdest,       0x5b, "JUMPDEST",       1,     0,  0, jumpdest)         \
    X(kTload,          0x5c, "TLOAD",          100,   1,  1, tload)            \
    X(kTstore,         0x5d, "TSTORE",         100,   2,  0, tstore)           \
    X(kMcopy,          0x5e, "MCOPY",          3,     3,  0, mcopy)            \
    X(kPush0,          0x5f, "PUSH0",          2,     0,  1, push0)            \
    X(kPush1,          0x60, "PUSH1",          3,     0,  1, push<1>)          \
    X(kPush2,          0x61, "PUSH2",          3,     0,  1, push<2>)          \
    X(kPush3,          0x62, "PUSH3",          3,     0,  1, push<3>)          \
    X(kPush4,          0x63, "PUSH4",          3,     0,  1, push<4>)          \
    X(kPush5,          0x64, "PUSH5",          3,     0,  1, push<5>)          \
    X(kPush6,          0x65, "PUSH6",          3,     0,  1, push<6>)          \
    X(kPush7,          0x66, "PUSH7",          3,     0,  1, push<7>)          \
    X(kPush8,          0x67, "PUSH8",          3,     0,  1, push<8>)          \
    X(kPush9,          0x68, "PUSH9",          3,     0,  1, push<9>)          \
    X(kPush10,         0x69, "PUSH10",         3,     0,  1, push<10>)         \
    X(kPush11,         0x6a, "PUSH11",         3,     0,  1, push<11>)         \
    X(kPush12,         0x6b, "PUSH12",         3,     0,  1, push<12>)         \
    X(kPush13,         0x6c, "PUSH13",         3,     0,  1, push<13>)         \
    X(kPush14,         0x6d, "PUSH14",         3,     0,  1, push<14>)         \
    X(kPush15,         0x6e, "PUSH15",         3,     0,  1, push<15>)         \
    X(kPush16,         0x6f, "PUSH16",         3,     0,  1, push<16>)         \
    X(kPush17,         0x70, "PUSH17",         3,     0,  1, push<17>)         \
    X(kPush18,         0x71, "PUSH18",         3,     0,  1, push<18>)         \
    X(kPush19,         0x72, "PUSH19",         3,     0,  1, push<19>)         \
    X(kPush20,         0x73, "PUSH20",         3,     0,  1, push<20>)         \
    X(kPush21,         0x74, "PUSH21",         3,     0,  1, push<21>)         \
    X(kPush22,         0x75, "PUSH22",         3,     0,  1, push<22>)         \
    X(kPush23,         0x76, "PUSH23",         3,     0,  1, push<23>)         \
    X(kPush24,         0x77, "PUSH24",         3,     0,  1, push<24>)         \
    X(kPush25,         0x78, "PUSH25",         3,     0,  1, push<25>)         \
    X(kPush26,         0x79, "PUSH26",         3,     0,  1, push<26>)         \
    X(kPush27,         0x7a, "PUSH27",         3,     0,  1, push<27>)         \
    X(kPush28,         0x7b, "PUSH28",         3,     0,  1, push<28>)         \
    X(kPush29,         0x7c, "PUSH29",         3,     0,  1, push<29>)         \
    X(kPush30,         0x7d, "PUSH30",         3,     0,  1, push<30>)         \
    X(kPush31,         0x7e, "PUSH31",         3,     0,  1, push<31>)         \
    X(kPush32,         0x7f, "PUSH32",         3,     0,  1, push<32>)         \
    X(kDup1,           0x80, "DUP1",           3,     1,  2, dup<1>)           \
    X(kDup2,           0x81, "DUP2",           3,     2,  3, dup<2>)           \
    X(kDup3,           0x82, "DUP3",           3,     3,  4, dup<3>)           \
    X(kDup4,           0x83, "DUP4",           3,     4,  5, dup<4>)           \
    X(kDup5,           0x84, "DUP5",           3,     5,  6, dup<5>)           \
    X(kDup6,           0x85, "DUP6",           3,     6,  7, dup<6>)           \
    X(kDup7,           0x86, "DUP7",           3,     7,  8, dup<7>)           \
    X(kDup8,           0x87, "DUP8",           3,     8,  9, dup<8>)           \
    X(kDup9,           0x88, "DUP9",           3,     9,  10, dup<9>)          \
    X(kDup10,          0x89, "DUP10",          3,     10, 11, dup<10>)         \
    X(kDup11,          0x8a, "DUP11",          3,     11, 12, dup<11>)         \
    X(kDup12,          0x8b, "DUP12",          3,     12, 13, dup<12>)         \
    X(kDup13,          0x8c, "DUP13",          3,     13, 14, dup<13>)         \
    X(kDup14,          0x8d, "DUP14",          3,     14, 15, dup<14>)         \
    X(kDup15,          0x8e, "DUP15",          3,     15, 16, dup<15>)         \
    X(kDup16,          0x8f, "DUP16",          3,     16, 17, dup<16>)         \
    X(kSwap1,          0x90, "SWAP1",          3,     2,  2, swap<1>)          \
    X(kSwap2,          0x91, "SWAP2",          3,     3,  3, swap<2>)          \
    X(kSwap3,          0x92, "SWAP3",          3,     4,  4, swap<3>)          \
    X(kSwap4,          0x93, "SWAP4",          3,     5,  5, swap<4>)          \
    X(kSwap5,          0x94, "SWAP5",          3,     6,  6, swap<5>)          \
    X(kSwap6,          0x95, "SWAP6",          3,     7,  7, swap<6>)          \
    X(kSwap7,          0x96, "SWAP7",          3,     8,  8, swap<7>)          \
    X(kSwap8,          0x97, "SWAP8",          3,     9,  9, swap<8>)          \
    X(kSwap9,          0x98, "SWAP9",          3,     10, 10, swap<9>)         \
    X(kSwap10,         0x99, "SWAP10",         3,     11, 11, swap<10>)        \
    X(kSwap11,         0x9a, "SWAP11",         3,     12, 12, swap<11>)        \
    X(kSwap12,         0x9b, "SWAP12",         3,     13, 13, swap<12>)        \
    X(kSwap13,         0x9c, "SWAP13",         3,     14, 14, swap<13>)        \
    X(kSwap14,         0x9d, "SWAP14",         3,     15, 15, swap<14>)        \
    X(kSwap15,         0x9e, "SWAP15",         3,     16, 16, swap<15>)        \
    X(kSwap16,         0x9f, "SWAP16",         3,     17, 17, swap<16>)        \
    X(kLog0,           0xa0, "LOG0",           375,   2,  0, log<0>)           \
    X(kLog1,           0xa1, "LOG1",           750,   3,  0, log<1>)           \
    X(kLog2,           0xa2, "LOG2",           1125,  4,  0, log<2>)           \
    X(kLog3,           0xa3, "LOG3",           1500,  5,  0, log<3>)           \
    X(kLog4,           0xa4, "LOG4",           1875,  6,  0, log<4>)           \
    X(kCreate,         0xf0, "CREATE",         32000, 3,  1, create)           \
    X(kCall,           0xf1, "CALL",           100,   7,  1, call)             \
    X(kCallcode,       0xf2, "CALLCODE",       100,   7,  1, callcode)         \
    X(kReturn,         0xf3, "RETURN",         0,     2,  0, ret)          \
    X(kDelegatecall,   0xf4, "DELEGATECALL",   100,   6,  1, delegatecall)     \
    X(kCreate2,        0xf5, "CREATE2",        32000, 4,  1, create2)          \
    X(kStaticcall,     0xfa, "STATICCALL",     100,   6,  1, staticcall)       \
    X(kRevert,         0xfd, "REVERT",         0,     2,  0, revert)           \
    X(kInvalid,        0xfe, "INVALID",        0,     0,  0, invalid)          \
    X(kSelfdestruct,   0xff, "SELFDESTRUCT",   5000,  1,  0, selfdestruct)
// clang-format on

/// Every instruction defined in Cancun. Values not listed are undefined instructions.
enum class Opcode : uint8_t {
#define PEL_VM_OPCODE_ENUM(e, v, n, g, i, o, h) e = (v),
    PEL_OPCODES(PEL_VM_OPCODE_ENUM)
#undef PEL_VM_OPCODE_ENUM
};

/// Static traits of one opcode value.
struct OpcodeInfo {
    const char* name = nullptr;  ///< nullptr for an undefined opcode
    int16_t base_gas = 0;
    uint8_t stack_in = 0;   ///< items that must be on the stack
    uint8_t stack_out = 0;  ///< items left in their place
    uint8_t immediate = 0;  ///< bytes of immediate data that follow (PUSHn: n)

    [[nodiscard]] constexpr bool defined() const noexcept { return name != nullptr; }
};

namespace detail {
consteval std::array<OpcodeInfo, 256> make_opcode_table() {
    std::array<OpcodeInfo, 256> t{};
#define PEL_VM_OPCODE_INFO(e, v, n, g, i, o, h)                                \
    t[(v)] = OpcodeInfo{(n), static_cast<int16_t>(g), static_cast<uint8_t>(i), \
                        static_cast<uint8_t>(o), 0};
    PEL_OPCODES(PEL_VM_OPCODE_INFO)
#undef PEL_VM_OPCODE_INFO
    for (size_t v = 0x60; v <= 0x7f; ++v) {
        t[v].immediate = static_cast<uint8_t>(v - 0x5f);
    }
    return t;
}

consteval int count_opcodes() {
    int n = 0;
#define PEL_VM_OPCODE_COUNT(e, v, n_, g, i, o, h) ++n;
    PEL_OPCODES(PEL_VM_OPCODE_COUNT)
#undef PEL_VM_OPCODE_COUNT
    return n;
}
}  // namespace detail

/// Traits of all 256 values, indexed by opcode byte. Thread safe (constant).
inline constexpr std::array<OpcodeInfo, 256> kOpcodeTable = detail::make_opcode_table();

/// Number of opcodes defined in Cancun.
inline constexpr int kNumOpcodes = detail::count_opcodes();

[[nodiscard]] constexpr const OpcodeInfo& opcode_info(uint8_t op) noexcept {
    return kOpcodeTable[op];
}

// The table is checked at compile time: no value appears twice (the count of defined slots
// equals the list length), and spot checks pin figures from the Yellow Paper and the EIPs.
namespace detail {
consteval int count_defined() {
    int n = 0;
    for (const auto& i : kOpcodeTable) {
        n += i.defined() ? 1 : 0;
    }
    return n;
}
consteval bool stack_effects_sane() {
    return std::ranges::all_of(kOpcodeTable, [](const OpcodeInfo& i) {
        return i.stack_in <= 17 && i.stack_out <= 17 && i.base_gas >= 0;
    });
}
}  // namespace detail
static_assert(detail::count_defined() == kNumOpcodes, "an opcode value is listed twice");
static_assert(kNumOpcodes == 149, "Cancun defines 149 instructions");
static_assert(detail::stack_effects_sane());
static_assert(kOpcodeTable[0x5f].base_gas == 2 && kOpcodeTable[0x5f].stack_out == 1);  // EIP-3855
static_assert(kOpcodeTable[0x5e].stack_in == 3);                                       // EIP-5656
static_assert(kOpcodeTable[0x5c].base_gas == 100 && kOpcodeTable[0x5d].base_gas == 100);  // 1153
static_assert(kOpcodeTable[0x49].base_gas == 3 && kOpcodeTable[0x4a].base_gas == 2);  // 4844/7516
static_assert(kOpcodeTable[0x7f].immediate == 32 && kOpcodeTable[0x60].immediate == 1);
static_assert(kOpcodeTable[0x9f].stack_in == 17 && kOpcodeTable[0x8f].stack_out == 17);
static_assert(kOpcodeTable[0xa4].base_gas == 375 * 5 && kOpcodeTable[0xa4].stack_in == 6);
static_assert(kOpcodeTable[0xf1].stack_in == 7 && kOpcodeTable[0xfa].stack_in == 6);
static_assert(!kOpcodeTable[0x0c].defined() && !kOpcodeTable[0xef].defined() &&
              !kOpcodeTable[0xfb].defined() && !kOpcodeTable[0x21].defined());
static_assert(kOpcodeTable[0xfe].defined());

}  // namespace pel::vm
