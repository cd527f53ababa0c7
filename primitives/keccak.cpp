// SPDX-License-Identifier: Apache-2.0
// Keccak-256 (FIPS 202's Keccak-f[1600] with the original Keccak padding, as Ethereum uses it).
//
// The permutation keeps all 25 lanes in local variables so that the compiler can hold them in
// registers (or at worst in a fixed stack frame) instead of indexing an array. Two rounds run per
// loop iteration, A -> E and E -> A, which avoids copying lanes back after each round; the pi step
// is folded into which lanes each chi row reads, so no lane is ever moved on its own.
//
// Lane complementing (Bertoni et al., "Keccak implementation overview", section 2.2): six lanes
// (indices 1, 2, 8, 12, 17, 20) are held inverted inside the permutation. Theta and rho are
// linear, so whether a lane is inverted after them is fixed in advance by this choice of lanes
// (a lane flips when exactly one neighbouring column holds an odd number of inverted lanes), and
// chi's b ^ (~c & d) can then be written per lane with AND or OR on the stored values and fewer
// inversions: 8 NOTs per round instead of 25. Each chi line below was chosen (by checking its
// truth table) so that it yields the stored, possibly inverted, output lane from the stored
// inputs. The inversion is applied when the lanes are loaded and undone when they are stored.
//
// keccak256_many hashes up to eight inputs at once on CPUs with AVX-512 (AVX512F), four with AVX2:
// lane i of each of 25 vector registers holds state word w of input i. With AVX-512 theta's
// five-way XOR and chi's a ^ (~b & c) are one VPTERNLOGQ each and rho is VPROLVQ; AVX2 spells
// them out. pi is which register a result lands in. Target attributes compile only those
// functions for the extensions; the CPU is asked once at run time, so the binary runs anywhere.
#include "primitives/keccak.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>

#include "primitives/assert.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PEL_KECCAK_X8 1
#include <immintrin.h>
#endif

namespace pel {
namespace {

constexpr size_t kRate = 136;      // (1600 - 2 * 256) / 8 bytes
constexpr size_t kRateLanes = 17;  // kRate / 8

// Round constants from the LFSR x^8 + x^6 + x^5 + x^4 + 1 (FIPS 202, algorithm 5), computed at
// compile time instead of transcribed.
consteval std::array<uint64_t, 24> make_round_constants() {
    std::array<uint64_t, 24> rc{};
    uint8_t lfsr = 1;
    for (auto& c : rc) {
        for (int j = 0; j < 7; ++j) {
            if ((lfsr & 1) != 0) {
                c |= uint64_t{1} << ((1 << j) - 1);
            }
            lfsr = static_cast<uint8_t>((lfsr & 0x80) != 0 ? (lfsr << 1) ^ 0x71 : lfsr << 1);
        }
    }
    return rc;
}
constexpr std::array<uint64_t, 24> kRoundConstants = make_round_constants();
static_assert(kRoundConstants[0] == 0x0000000000000001ULL);
static_assert(kRoundConstants[1] == 0x0000000000008082ULL);
static_assert(kRoundConstants[23] == 0x8000000080008008ULL);

inline uint64_t load_le64(const uint8_t* p) noexcept {
    uint64_t v = 0;
    std::memcpy(&v, p, 8);
    if constexpr (std::endian::native == std::endian::big) {
        v = __builtin_bswap64(v);
    }
    return v;
}

inline void store_le64(uint8_t* p, uint64_t v) noexcept {
    if constexpr (std::endian::native == std::endian::big) {
        v = __builtin_bswap64(v);
    }
    std::memcpy(p, &v, 8);
}

// Keccak-f[1600] on `s` (lane index x + 5 * y). `s` holds plain lanes on entry and exit.
void keccak_f1600(uint64_t* s) noexcept {
    // One declaration per row of lanes, and the E lanes, b, c, d and n are written before they are
    // read in every round: the usual declaration rules would only make the permutation harder to
    // check against the specification.
    // NOLINTBEGIN(readability-isolate-declaration,cppcoreguidelines-init-variables)
    uint64_t a00 = s[0], a01 = ~s[1], a02 = ~s[2], a03 = s[3], a04 = s[4];
    uint64_t a05 = s[5], a06 = s[6], a07 = s[7], a08 = ~s[8], a09 = s[9];
    uint64_t a10 = s[10], a11 = s[11], a12 = ~s[12], a13 = s[13], a14 = s[14];
    uint64_t a15 = s[15], a16 = s[16], a17 = ~s[17], a18 = s[18], a19 = s[19];
    uint64_t a20 = ~s[20], a21 = s[21], a22 = s[22], a23 = s[23], a24 = s[24];
    uint64_t e00, e01, e02, e03, e04, e05, e06, e07, e08, e09, e10, e11, e12;
    uint64_t e13, e14, e15, e16, e17, e18, e19, e20, e21, e22, e23, e24;
    uint64_t b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
    uint64_t n1, n2, n3, n4;
    // NOLINTEND(readability-isolate-declaration,cppcoreguidelines-init-variables)

    for (size_t round = 0; round < 24; round += 2) {
        // Round `round`: A -> E.
        c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20;
        c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21;
        c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22;
        c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23;
        c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24;
        d0 = c4 ^ std::rotl(c1, 1);
        d1 = c0 ^ std::rotl(c2, 1);
        d2 = c1 ^ std::rotl(c3, 1);
        d3 = c2 ^ std::rotl(c4, 1);
        d4 = c3 ^ std::rotl(c0, 1);
        b0 = a00 ^ d0;
        b1 = std::rotl(a06 ^ d1, 44);
        b2 = std::rotl(a12 ^ d2, 43);
        b3 = std::rotl(a18 ^ d3, 21);
        b4 = std::rotl(a24 ^ d4, 14);
        n2 = ~b2;
        e00 = b0 ^ (b1 | b2);
        e01 = b1 ^ (n2 | b3);
        e02 = b2 ^ (b3 & b4);
        e03 = b3 ^ (b4 | b0);
        e04 = b4 ^ (b0 & b1);
        b0 = std::rotl(a03 ^ d3, 28);
        b1 = std::rotl(a09 ^ d4, 20);
        b2 = std::rotl(a10 ^ d0, 3);
        b3 = std::rotl(a16 ^ d1, 45);
        b4 = std::rotl(a22 ^ d2, 61);
        n4 = ~b4;
        e05 = b0 ^ (b1 | b2);
        e06 = b1 ^ (b2 & b3);
        e07 = b2 ^ (b3 | n4);
        e08 = b3 ^ (b4 | b0);
        e09 = b4 ^ (b0 & b1);
        b0 = std::rotl(a01 ^ d1, 1);
        b1 = std::rotl(a07 ^ d2, 6);
        b2 = std::rotl(a13 ^ d3, 25);
        b3 = std::rotl(a19 ^ d4, 8);
        b4 = std::rotl(a20 ^ d0, 18);
        n3 = ~b3;
        e10 = b0 ^ (b1 | b2);
        e11 = b1 ^ (b2 & b3);
        e12 = b2 ^ (n3 & b4);
        e13 = b3 ^ ~(b4 | b0);
        e14 = b4 ^ (b0 & b1);
        b0 = std::rotl(a04 ^ d4, 27);
        b1 = std::rotl(a05 ^ d0, 36);
        b2 = std::rotl(a11 ^ d1, 10);
        b3 = std::rotl(a17 ^ d2, 15);
        b4 = std::rotl(a23 ^ d3, 56);
        n3 = ~b3;
        e15 = b0 ^ (b1 & b2);
        e16 = b1 ^ (b2 | b3);
        e17 = b2 ^ (n3 | b4);
        e18 = b3 ^ ~(b4 & b0);
        e19 = b4 ^ (b0 | b1);
        b0 = std::rotl(a02 ^ d2, 62);
        b1 = std::rotl(a08 ^ d3, 55);
        b2 = std::rotl(a14 ^ d4, 39);
        b3 = std::rotl(a15 ^ d0, 41);
        b4 = std::rotl(a21 ^ d1, 2);
        n1 = ~b1;
        e20 = b0 ^ (n1 & b2);
        e21 = b1 ^ ~(b2 | b3);
        e22 = b2 ^ (b3 & b4);
        e23 = b3 ^ (b4 | b0);
        e24 = b4 ^ (b0 & b1);
        e00 ^= kRoundConstants[round];

        // Round `round + 1`: E -> A.
        c0 = e00 ^ e05 ^ e10 ^ e15 ^ e20;
        c1 = e01 ^ e06 ^ e11 ^ e16 ^ e21;
        c2 = e02 ^ e07 ^ e12 ^ e17 ^ e22;
        c3 = e03 ^ e08 ^ e13 ^ e18 ^ e23;
        c4 = e04 ^ e09 ^ e14 ^ e19 ^ e24;
        d0 = c4 ^ std::rotl(c1, 1);
        d1 = c0 ^ std::rotl(c2, 1);
        d2 = c1 ^ std::rotl(c3, 1);
        d3 = c2 ^ std::rotl(c4, 1);
        d4 = c3 ^ std::rotl(c0, 1);
        b0 = e00 ^ d0;
        b1 = std::rotl(e06 ^ d1, 44);
        b2 = std::rotl(e12 ^ d2, 43);
        b3 = std::rotl(e18 ^ d3, 21);
        b4 = std::rotl(e24 ^ d4, 14);
        n2 = ~b2;
        a00 = b0 ^ (b1 | b2);
        a01 = b1 ^ (n2 | b3);
        a02 = b2 ^ (b3 & b4);
        a03 = b3 ^ (b4 | b0);
        a04 = b4 ^ (b0 & b1);
        b0 = std::rotl(e03 ^ d3, 28);
        b1 = std::rotl(e09 ^ d4, 20);
        b2 = std::rotl(e10 ^ d0, 3);
        b3 = std::rotl(e16 ^ d1, 45);
        b4 = std::rotl(e22 ^ d2, 61);
        n4 = ~b4;
        a05 = b0 ^ (b1 | b2);
        a06 = b1 ^ (b2 & b3);
        a07 = b2 ^ (b3 | n4);
        a08 = b3 ^ (b4 | b0);
        a09 = b4 ^ (b0 & b1);
        b0 = std::rotl(e01 ^ d1, 1);
        b1 = std::rotl(e07 ^ d2, 6);
        b2 = std::rotl(e13 ^ d3, 25);
        b3 = std::rotl(e19 ^ d4, 8);
        b4 = std::rotl(e20 ^ d0, 18);
        n3 = ~b3;
        a10 = b0 ^ (b1 | b2);
        a11 = b1 ^ (b2 & b3);
        a12 = b2 ^ (n3 & b4);
        a13 = b3 ^ ~(b4 | b0);
        a14 = b4 ^ (b0 & b1);
        b0 = std::rotl(e04 ^ d4, 27);
        b1 = std::rotl(e05 ^ d0, 36);
        b2 = std::rotl(e11 ^ d1, 10);
        b3 = std::rotl(e17 ^ d2, 15);
        b4 = std::rotl(e23 ^ d3, 56);
        n3 = ~b3;
        a15 = b0 ^ (b1 & b2);
        a16 = b1 ^ (b2 | b3);
        a17 = b2 ^ (n3 | b4);
        a18 = b3 ^ ~(b4 & b0);
        a19 = b4 ^ (b0 | b1);
        b0 = std::rotl(e02 ^ d2, 62);
        b1 = std::rotl(e08 ^ d3, 55);
        b2 = std::rotl(e14 ^ d4, 39);
        b3 = std::rotl(e15 ^ d0, 41);
        b4 = std::rotl(e21 ^ d1, 2);
        n1 = ~b1;
        a20 = b0 ^ (n1 & b2);
        a21 = b1 ^ ~(b2 | b3);
        a22 = b2 ^ (b3 & b4);
        a23 = b3 ^ (b4 | b0);
        a24 = b4 ^ (b0 & b1);
        a00 ^= kRoundConstants[round + 1];
    }

    s[0] = a00, s[1] = ~a01, s[2] = ~a02, s[3] = a03, s[4] = a04;
    s[5] = a05, s[6] = a06, s[7] = a07, s[8] = ~a08, s[9] = a09;
    s[10] = a10, s[11] = a11, s[12] = ~a12, s[13] = a13, s[14] = a14;
    s[15] = a15, s[16] = a16, s[17] = ~a17, s[18] = a18, s[19] = a19;
    s[20] = ~a20, s[21] = a21, s[22] = a22, s[23] = a23, s[24] = a24;
}

// XORs one full rate block into the state and permutes.
inline void absorb_block(uint64_t* s, const uint8_t* block) noexcept {
    for (size_t i = 0; i < kRateLanes; ++i) {
        s[i] ^= load_le64(block + 8 * i);
    }
    keccak_f1600(s);
}

// Pads the final partial block (`len` < kRate bytes at `tail`), absorbs it and squeezes the digest.
// The tail is XORed into the lanes directly rather than copied into a zeroed block first.
Hash32 finish(uint64_t* s, const uint8_t* tail, size_t len) noexcept {
    const size_t full_lanes = len / 8;
    for (size_t i = 0; i < full_lanes; ++i) {
        s[i] ^= load_le64(tail + 8 * i);
    }
    const size_t rest = len % 8;
    std::array<uint8_t, 8> partial{};
    if (rest != 0) {
        std::memcpy(partial.data(), tail + 8 * full_lanes, rest);
    }
    // Keccak pad10*1: a 1 bit right after the message and a 1 bit at the end of the block (the
    // two land in the same byte, 0x81, when len == 135).
    partial[rest] = 0x01;
    s[full_lanes] ^= load_le64(partial.data());
    s[kRateLanes - 1] ^= uint64_t{0x80} << 56;
    keccak_f1600(s);
    Hash32 out;
    for (size_t i = 0; i < 4; ++i) {
        store_le64(out.bytes.data() + 8 * i, s[i]);
    }
    return out;
}

#ifdef PEL_KECCAK_X8

// GCC 12 takes the deliberately undefined first operand inside some AVX-512 intrinsics (the
// rotates) for an uninitialised read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

// rho's rotation offsets by lane index x + 5 * y (FIPS 202, algorithm 2), computed at compile time.
consteval std::array<int, 25> make_rho_offsets() {
    std::array<int, 25> r{};
    int x = 1;
    int y = 0;
    for (int t = 0; t < 24; ++t) {
        r[static_cast<size_t>(x + 5 * y)] = ((t + 1) * (t + 2) / 2) % 64;
        const int next_y = (2 * x + 3 * y) % 5;
        x = y;
        y = next_y;
    }
    return r;
}
constexpr std::array<int, 25> kRho = make_rho_offsets();
static_assert(kRho[1] == 1 && kRho[10] == 3 && kRho[24] == 14 && kRho[5] == 36);

constexpr int kXor3 = 0x96;       // VPTERNLOGQ truth table of a ^ b ^ c
constexpr int kAndNotXor = 0xD2;  // ... of a ^ (~b & c)

// The states of N inputs, word w of input i at [w][i], and one block of each.
template <size_t N>
using LaneStates = std::array<std::array<uint64_t, N>, 25>;
template <size_t N>
using LaneBlocks = std::array<std::array<uint64_t, N>, kRateLanes>;

// s ^= block, then Keccak-f[1600], on eight states at once: a[w] holds word w of every state.
__attribute__((target("avx512f"))) void absorb_x8(LaneStates<8>& s,
                                                  const LaneBlocks<8>& block) noexcept {
    __m512i a[25];  // NOLINT(*-avoid-c-arrays,*-init-variables): loaded first
    for (size_t w = 0; w < 25; ++w) a[w] = _mm512_load_si512(s[w].data());
    for (size_t w = 0; w < kRateLanes; ++w) {
        a[w] = _mm512_xor_si512(a[w], _mm512_load_si512(block[w].data()));
    }
    for (const uint64_t rc : kRoundConstants) {
        __m512i c[5];  // NOLINT(*-avoid-c-arrays,*-init-variables): written first
        for (size_t x = 0; x < 5; ++x) {
            c[x] = _mm512_ternarylogic_epi64(
                _mm512_ternarylogic_epi64(a[x], a[x + 5], a[x + 10], kXor3), a[x + 15], a[x + 20],
                kXor3);
        }
        __m512i b[25];  // NOLINT(*-avoid-c-arrays,*-init-variables): written first
        for (size_t x = 0; x < 5; ++x) {
            const __m512i d = _mm512_xor_si512(c[(x + 4) % 5], _mm512_rol_epi64(c[(x + 1) % 5], 1));
            for (size_t y = 0; y < 5; ++y) {
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _mm512_rolv_epi64(
                    _mm512_xor_si512(a[x + 5 * y], d), _mm512_set1_epi64(kRho[x + 5 * y]));
            }
        }
        for (size_t y = 0; y < 5; ++y) {
            for (size_t x = 0; x < 5; ++x) {
                a[x + 5 * y] = _mm512_ternarylogic_epi64(b[x + 5 * y], b[(x + 1) % 5 + 5 * y],
                                                         b[(x + 2) % 5 + 5 * y], kAndNotXor);
            }
        }
        a[0] = _mm512_xor_si512(a[0], _mm512_set1_epi64(static_cast<long long>(rc)));
    }
    for (size_t w = 0; w < 25; ++w) _mm512_store_si512(s[w].data(), a[w]);
}

__attribute__((target("avx2"))) inline __m256i load_x4(const std::array<uint64_t, 4>& v) noexcept {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(v.data()));
}

__attribute__((target("avx2"))) inline __m256i rol_x4(__m256i v, int n) noexcept {
    return _mm256_or_si256(_mm256_sllv_epi64(v, _mm256_set1_epi64x(n)),
                           _mm256_srlv_epi64(v, _mm256_set1_epi64x(64 - n)));
}

// The same on four states with AVX2, which has no three-input logic and no rotate: a rotate is
// two shifts and an OR (a shift by 64 gives 0, so rho's offset 0 needs no special case).
__attribute__((target("avx2"))) void absorb_x4(LaneStates<4>& s,
                                               const LaneBlocks<4>& block) noexcept {
    __m256i a[25];  // NOLINT(*-avoid-c-arrays,*-init-variables): loaded first
    for (size_t w = 0; w < 25; ++w) a[w] = load_x4(s[w]);
    for (size_t w = 0; w < kRateLanes; ++w) a[w] = _mm256_xor_si256(a[w], load_x4(block[w]));
    for (const uint64_t rc : kRoundConstants) {
        __m256i c[5];  // NOLINT(*-avoid-c-arrays,*-init-variables): written first
        for (size_t x = 0; x < 5; ++x) {
            c[x] = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a[x], a[x + 5]),
                                                     _mm256_xor_si256(a[x + 10], a[x + 15])),
                                    a[x + 20]);
        }
        __m256i b[25];  // NOLINT(*-avoid-c-arrays,*-init-variables): written first
        for (size_t x = 0; x < 5; ++x) {
            const __m256i d = _mm256_xor_si256(c[(x + 4) % 5], rol_x4(c[(x + 1) % 5], 1));
            for (size_t y = 0; y < 5; ++y) {
                b[y + 5 * ((2 * x + 3 * y) % 5)] =
                    rol_x4(_mm256_xor_si256(a[x + 5 * y], d), kRho[x + 5 * y]);
            }
        }
        for (size_t y = 0; y < 5; ++y) {
            for (size_t x = 0; x < 5; ++x) {
                a[x + 5 * y] = _mm256_xor_si256(
                    b[x + 5 * y],
                    _mm256_andnot_si256(b[(x + 1) % 5 + 5 * y], b[(x + 2) % 5 + 5 * y]));
            }
        }
        a[0] = _mm256_xor_si256(a[0], _mm256_set1_epi64x(static_cast<long long>(rc)));
    }
    for (size_t w = 0; w < 25; ++w) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(s[w].data()), a[w]);
    }
}

// out[i] = keccak256(in[i]) for i < count <= N, one input per lane. Inputs of different lengths
// absorb in lockstep: an input that has no block left at step k absorbs nothing (its lane goes on
// permuting, harmlessly), and each digest is taken right after its input's last block.
template <size_t N, void (*Absorb)(LaneStates<N>&, const LaneBlocks<N>&) noexcept>
void keccak256_lanes(const ByteView* in, size_t count, Hash32* out) noexcept {
    std::array<size_t, N> blocks{};  // blocks absorbed per input, the padded last one included
    size_t most = 0;
    for (size_t i = 0; i < count; ++i) {
        blocks[i] = in[i].size() / kRate + 1;
        most = std::max(most, blocks[i]);
    }
    alignas(64) LaneStates<N> state{};
    alignas(64) LaneBlocks<N> block{};
    std::array<uint8_t, kRate> last{};
    for (size_t k = 0; k < most; ++k) {
        bool any_done = false;
        for (size_t i = 0; i < N; ++i) {
            if (i >= count || k >= blocks[i]) {
                for (auto& w : block) w[i] = 0;
                continue;
            }
            const uint8_t* p = in[i].data() + k * kRate;
            if (k + 1 < blocks[i]) {
                for (size_t w = 0; w < kRateLanes; ++w) block[w][i] = load_le64(p + 8 * w);
                continue;
            }
            // The last block: the rest of the input and Keccak's pad10*1 (0x81 when they meet).
            const size_t len = in[i].size() - k * kRate;
            last.fill(0);
            if (len != 0) std::memcpy(last.data(), p, len);
            last[len] ^= 0x01;
            last[kRate - 1] ^= 0x80;
            for (size_t w = 0; w < kRateLanes; ++w) block[w][i] = load_le64(last.data() + 8 * w);
            any_done = true;
        }
        Absorb(state, block);
        if (!any_done) continue;
        for (size_t i = 0; i < count; ++i) {
            if (blocks[i] != k + 1) continue;
            for (size_t w = 0; w < 4; ++w) store_le64(out[i].bytes.data() + 8 * w, state[w][i]);
        }
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // PEL_KECCAK_X8

}  // namespace

size_t keccak256_many_lanes_supported() noexcept {
#ifdef PEL_KECCAK_X8
    static const size_t lanes = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") != 0) return size_t{8};
        if (__builtin_cpu_supports("avx2") != 0) return size_t{4};
        return size_t{1};
    }();
    return lanes;
#else
    return 1;
#endif
}

size_t keccak256_many_lanes() noexcept {
    // PEL_KECCAK_LANES=1 or 4 caps the lanes (to compare the paths in one build).
    static const size_t lanes = [] {
        const char* cap = std::getenv("PEL_KECCAK_LANES");  // NOLINT(concurrency-mt-unsafe)
        const size_t most = keccak256_many_lanes_supported();
        if (cap == nullptr) return most;
        if (std::strcmp(cap, "1") == 0) return size_t{1};
        if (std::strcmp(cap, "4") == 0) return std::min<size_t>(4, most);
        return most;
    }();
    return lanes;
}

void keccak256_many_with(size_t lanes, std::span<const ByteView> in,
                         std::span<Hash32> out) noexcept {
    PEL_ASSERT(in.size() == out.size(), "keccak256_many: as many outputs as inputs");
    PEL_ASSERT(
        lanes <= keccak256_many_lanes_supported() && (lanes == 1 || lanes == 4 || lanes == 8),
        "keccak256_many: lane count not supported on this CPU");
    size_t i = 0;
#ifdef PEL_KECCAK_X8
    // Two or more inputs: one pass of the lanes costs less than two scalar hashes.
    while (lanes > 1 && in.size() - i >= 2) {
        const size_t n = std::min(lanes, in.size() - i);
        if (lanes == 8 && n > 4) {
            keccak256_lanes<8, absorb_x8>(in.data() + i, n, out.data() + i);
        } else {
            keccak256_lanes<4, absorb_x4>(in.data() + i, n, out.data() + i);
        }
        i += n;
    }
#endif
    for (; i < in.size(); ++i) out[i] = keccak256(in[i]);
}

void keccak256_many(std::span<const ByteView> in, std::span<Hash32> out) noexcept {
    keccak256_many_with(keccak256_many_lanes(), in, out);
}

Hash32 keccak256(ByteView data) noexcept {
    std::array<uint64_t, 25> s{};
    const uint8_t* p = data.data();
    size_t n = data.size();
    while (n >= kRate) {
        absorb_block(s.data(), p);
        p += kRate;
        n -= kRate;
    }
    return finish(s.data(), p, n);
}

void Keccak256::update(ByteView data) noexcept {
    if (data.empty()) {
        return;  // also keeps a null data() away from memcpy
    }
    const uint8_t* p = data.data();
    size_t n = data.size();
    if (buf_len_ != 0) {
        const size_t take = n < kRate - buf_len_ ? n : kRate - buf_len_;
        std::memcpy(buf_.data() + buf_len_, p, take);
        buf_len_ += take;
        p += take;
        n -= take;
        if (buf_len_ < kRate) {
            return;
        }
        absorb_block(state_.data(), buf_.data());
        buf_len_ = 0;
    }
    while (n >= kRate) {
        absorb_block(state_.data(), p);
        p += kRate;
        n -= kRate;
    }
    if (n != 0) {
        std::memcpy(buf_.data(), p, n);
        buf_len_ = n;
    }
}

Hash32 Keccak256::finalize() noexcept {
    const Hash32 out = finish(state_.data(), buf_.data(), buf_len_);
    state_ = {};
    buf_len_ = 0;
    return out;
}

}  // namespace pel
