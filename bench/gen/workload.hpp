// SPDX-License-Identifier: Apache-2.0
// bench::make_block: the deterministic workloads of pel-bench. Each builds a base state (genesis
// accounts plus the contracts deployed and initialised by real transactions run with the
// sequential executor in setup blocks) and one block of signed EIP-1559 transactions on top of it.
//
// Workloads (see make_block for the exact shape of each):
//   transfer  plain value transfers among N accounts
//   erc20     ERC-20 transfer() calls among N holders (OpenZeppelin ERC-20, contracts/BenchToken)
//   amm       swaps through a V2-style router over P pairs (contracts/PelAmm.sol)
//   lending   deposits, collateral, borrows, repayments, an oracle price drop mid-block and the
//             liquidations it allows, over P Compound-style markets (contracts/PelLending.sol)
//   mixed     a blend of the four with a hot-spot share of swaps on one pool
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "execution/transition.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/transaction.hpp"
#include "state/mem_state.hpp"

namespace pel::bench {

/// What to generate.
struct WorkloadSpec {
    std::string workload;    ///< transfer, erc20, amm, lending, mixed
    size_t accounts = 1000;  ///< N: senders/holders/users (>= 2)
    size_t pools = 1;        ///< P: AMM pairs (amm, mixed) or lending markets (lending, mixed)
    size_t txns = 1000;      ///< transactions in the measured block (>= 1)
    double hot = 0.1;        ///< mixed: share of transactions that swap on pool 0 (0..1)
    uint64_t seed = 1;       ///< every random choice derives from it
};

/// The names make_block accepts.
[[nodiscard]] const std::vector<std::string_view>& workload_names();

/// A generated block and the state it executes on.
struct Block {
    state::MemState state;          ///< base state: genesis + setup blocks applied
    exec::BlockEnv env;             ///< the measured block's header fields
    std::vector<Transaction> txns;  ///< signed
    std::vector<Address> senders;   ///< the signers, as generated (recovery must agree)
    size_t setup_txns = 0;          ///< transactions executed in setup blocks
    std::string shape;              ///< one line describing the mix (for the report)
};

/// Builds the workload. Errors: unknown workload, accounts < 2, txns == 0, pools == 0, hot
/// outside [0, 1], or a setup transaction that failed (a bug in the generator or the executor).
[[nodiscard]] Result<Block> make_block(const WorkloadSpec& spec);

}  // namespace pel::bench
