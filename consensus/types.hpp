// SPDX-License-Identifier: Apache-2.0
// Basic consensus vocabulary. Terminology: inside consensus/ a "height" is the block_num of the
// block being decided (the Tendermint paper's h_p); "round" is the Tendermint round within a
// height. Neither word is used outside consensus/ (STYLE.md section 2).
#pragma once

#include <cstdint>
#include <string_view>

namespace pel::consensus {

/// The block_num being decided. Height 0 is genesis and is never decided by consensus.
using Height = uint64_t;
/// A Tendermint round; kNilRound (-1) stands for "no round" (lockedRound/validRound unset).
using Round = int64_t;
inline constexpr Round kNilRound = -1;
/// Rounds above this are rejected by the decoder (a Byzantine peer cannot make us allocate
/// state for absurd rounds, and round arithmetic never overflows).
inline constexpr Round kMaxRound = (Round{1} << 31) - 1;

/// The step of the current round (the paper's step_p). Ordered: kPropose < kPrevote < kPrecommit.
enum class Step : uint8_t { kPropose = 0, kPrevote = 1, kPrecommit = 2 };

/// What a scheduled timeout is for. kRebroadcast is pel's addition to the paper: the engine
/// periodically re-sends its own messages of the current height, so that a lossy network (which
/// the paper's model excludes after GST) cannot leave a round waiting for a lost vote forever.
enum class TimeoutKind : uint8_t { kPropose = 0, kPrevote = 1, kPrecommit = 2, kRebroadcast = 3 };

/// A timeout the engine asked its Clock to deliver back (Engine::on_timeout) after a delay.
struct Timeout {
    TimeoutKind kind = TimeoutKind::kPropose;
    Height height = 0;
    Round round = 0;

    friend bool operator==(const Timeout&, const Timeout&) = default;
};

[[nodiscard]] std::string_view to_string(Step s) noexcept;
[[nodiscard]] std::string_view to_string(TimeoutKind k) noexcept;

}  // namespace pel::consensus
