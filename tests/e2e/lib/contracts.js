// SPDX-License-Identifier: Apache-2.0
// Compiles the test contracts with solc from npm (solcjs, pinned in package.json), evmVersion
// cancun: an OpenZeppelin ERC20, the same with ERC20Permit (EIP-2612: its permit checks an EIP-712
// signature on chain), a small contract that reverts with a require message and with a custom
// error, a contract that records the BLOBHASH and BLOBBASEFEE its blob transaction shows it, and
// three contracts whose one transaction makes every kind of call frame (debug_trace*) (a second or
// two per compile).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const solc = require('solc');

const kSource = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

contract E2EToken is ERC20 {
    constructor(uint256 initialSupply) ERC20("E2E Token", "E2E") {
        _mint(msg.sender, initialSupply);
    }
}

contract E2EPermitToken is ERC20, ERC20Permit {
    constructor(uint256 initialSupply) ERC20("E2E Permit", "E2EP") ERC20Permit("E2E Permit") {
        _mint(msg.sender, initialSupply);
    }
}

contract Guard {
    error TooLarge(uint256 value, uint256 limit);

    uint256 public stored;

    function setSmall(uint256 v) external {
        require(v < 100, "Guard: value too large");
        stored = v;
    }

    function setTiny(uint256 v) external {
        if (v >= 10) revert TooLarge(v, 10);
        stored = v;
    }
}

// EIP-4844: what a blob transaction shows the contract it calls (BLOBHASH, BLOBBASEFEE).
contract BlobSink {
    bytes32[] public seen;
    uint256 public blobBaseFee;

    function record() external {
        for (uint256 i = 0; blobhash(i) != bytes32(0); ++i) seen.push(blobhash(i));
        blobBaseFee = block.blobbasefee;
    }

    function count() external view returns (uint256) {
        return seen.length;
    }
}

// debug_trace*: every kind of frame in one transaction.
contract TraceChild {
    event Ping(uint256 v);

    uint256 public x;

    constructor() payable {}

    function ping(uint256 v) external payable returns (uint256) {
        x = v;
        emit Ping(v);
        return v + 1;
    }

    function fail(uint256 v) external {
        emit Ping(v);
        require(v == 0, "TraceChild: no");
    }

    function peek() external view returns (uint256) {
        return x;
    }

    function boom(address payable to) external {
        selfdestruct(to);
    }
}

contract TraceLib {
    function setSlot(uint256 v) external payable {
        assembly {
            sstore(7, v)
        }
    }
}

contract TraceRoot {
    event Done(uint256 n);

    TraceChild public child;
    TraceLib public lib;

    constructor(TraceLib l) payable {
        lib = l;
        child = new TraceChild{value: 1}();
    }

    function run(uint256 v) external payable returns (uint256 r) {
        r = child.ping{value: msg.value}(v);
        r += child.peek();
        (bool ok,) = address(lib).delegatecall(abi.encodeCall(TraceLib.setSlot, (v)));
        require(ok, "TraceRoot: delegatecall");
        try child.fail(v) {} catch {}
        TraceChild c2 = new TraceChild{salt: bytes32(v), value: 2}();
        c2.boom(payable(msg.sender));
        (ok,) = address(child).call{value: 10 ether}("");
        bytes32 h = sha256(abi.encode(v));
        emit Done(uint256(h) & 0xff);
        require(v < 1000, "TraceRoot: too big");
    }
}
`;

const modules = path.join(__dirname, '..', 'node_modules');

function findImport(p) {
  const full = path.join(modules, p);
  if (fs.existsSync(full)) return { contents: fs.readFileSync(full, 'utf8') };
  return { error: `not found: ${p}` };
}

function compile() {
  const input = {
    language: 'Solidity',
    sources: { 'E2E.sol': { content: kSource } },
    settings: {
      evmVersion: 'cancun',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const result = {};
  for (const [name, c] of Object.entries(out.contracts['E2E.sol'])) {
    result[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
  }
  return result;
}

module.exports = { compile };
