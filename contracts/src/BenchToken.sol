// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// A plain OpenZeppelin ERC-20 for pel's benchmarks and workloads: the whole supply is minted to
/// the deployer; nothing else is added to OpenZeppelin's ERC20.
contract BenchToken is ERC20 {
    constructor(uint256 initialSupply) ERC20("Bench Token", "BENCH") {
        _mint(msg.sender, initialSupply);
    }
}
