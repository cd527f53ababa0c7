// SPDX-License-Identifier: Apache-2.0
#include "vm/internal/analysis.hpp"

namespace pel::vm::internal {

void CodeAnalysis::analyse(ByteView code) {
    code_size_ = code.size();
    padded_.assign(code.begin(), code.end());
    padded_.resize(code.size() + kCodePadding, 0);
    jumpdests_.assign((code.size() + 63) / 64, 0);
    constexpr uint8_t kJumpdest = 0x5b;
    constexpr uint8_t kPush1 = 0x60;
    constexpr uint8_t kPush32 = 0x7f;
    for (size_t i = 0; i < code.size(); ++i) {
        const uint8_t op = code[i];
        if (op == kJumpdest) {
            jumpdests_[i / 64] |= uint64_t{1} << (i % 64);
        } else if (op >= kPush1 && op <= kPush32) {
            i += static_cast<size_t>(op - kPush1) + 1;  // skip the immediate data
        }
    }
}

}  // namespace pel::vm::internal
