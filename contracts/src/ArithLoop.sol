// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// A tight arithmetic loop for interpreter throughput (Mgas/s): stack and arithmetic opcodes
/// only, no memory growth and no state access.
contract ArithLoop {
    /// Runs `rounds` rounds of a multiply/add/xor/shift mix and returns the accumulator.
    function run(uint256 rounds) external pure returns (uint256 acc) {
        unchecked {
            acc = rounds;
            for (uint256 i = 0; i < rounds; ++i) {
                acc = acc * 0x9e3779b97f4a7c15 + i;
                acc ^= acc >> 29;
                acc = (acc | 1) * (acc + 7);
            }
        }
    }
}
