// SPDX-License-Identifier: Apache-2.0
// Genesis: a geth genesis.json (config.chainId, alloc, gasLimit, baseFeePerGas, timestamp,
// extraData, coinbase, difficulty, mixHash, nonce, excessBlobGas), or the dev chain (the dev
// accounts with 10,000 ETH each). Genesis is block 0, committed like any block.
//
// Consensus mode (config.pel.validators): the genesis commits to the validator set, the way
// clique chains commit their signer list in the genesis extraData. The genesis header's extraData
// is validator_set_commitment(validators) (32 bytes, rule below), so the genesis hash (which the
// net handshake and the datadir's identity record compare) changes with the set. A genesis.json
// may leave extraData out (or "0x"), or give exactly that value; any other value is refused.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/validator_set.hpp"
#include "node/api.hpp"
#include "node/node.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"
#include "primitives/u256.hpp"
#include "state/state_view.hpp"

namespace pel::node {

struct GenesisAccount {
    U256 balance;
    uint64_t nonce = 0;
    Bytes code;
    std::map<U256, U256> storage;
};

struct Genesis {
    uint64_t chain_id = 31337;
    uint64_t gas_limit = 30'000'000;
    U256 base_fee = 1'000'000'000;
    uint64_t timestamp = 0;
    Bytes extra_data;
    Address coinbase;
    U256 difficulty;
    Hash32 mix_hash;
    uint64_t nonce = 0;
    uint64_t excess_blob_gas = 0;
    std::map<Address, GenesisAccount> alloc;
    /// config.pel.validators: the BFT validator set, in canonical order (canonical_validators).
    /// Non-empty: pel-node runs consensus, and extra_data holds validator_set_commitment().
    std::vector<consensus::Validator> validators;
};

/// `validators` in canonical order: ascending address (compared byte by byte, i.e. as 160-bit
/// big-endian numbers). This is the order the consensus engine gets (its proposer rotation), so
/// two genesis files that list the same set in different orders describe the same chain.
[[nodiscard]] std::vector<consensus::Validator> canonical_validators(
    std::vector<consensus::Validator> validators);

/// The commitment to a validator set that a consensus genesis carries as its extraData:
///   keccak256(rlp([[address_0, power_0], [address_1, power_1], ...]))
/// over the validators in canonical order (whatever order `validators` is in), each address as
/// a 20-byte RLP string and each power as an RLP integer (big-endian, no leading zeros). Power
/// is included because it sets the quorum: the same addresses with other powers are another
/// chain.
[[nodiscard]] Hash32 validator_set_commitment(const std::vector<consensus::Validator>& validators);

/// Parses geth's genesis.json. Quantities may be JSON numbers, "0x" hex or decimal strings;
/// alloc keys with or without "0x". Missing gasLimit/baseFeePerGas take `defaults`' values.
/// Errors name the field ("genesis: field 'alloc.0x12..balance': ...").
/// With config.pel.validators, the validators are stored in canonical order and extra_data is
/// set to validator_set_commitment(); a non-empty extraData in the JSON that differs from it is
/// an error (naming the field and the derived value). Without, extraData is taken as given
/// (at most 32 bytes).
[[nodiscard]] Result<Genesis> parse_genesis(std::string_view json_text, const Genesis& defaults);
/// Reads and parses a file (errors name the file).
[[nodiscard]] Result<Genesis> load_genesis_file(const std::string& path, const Genesis& defaults);

/// The genesis.json of a consensus devnet (--init-genesis): config.chainId = chain_id, gasLimit,
/// baseFeePerGas 1 gwei, timestamp 0, alloc = `funded` with 10,000 ETH each, and
/// config.pel.validators = `validators` (addresses, power 1, written in canonical order) and
/// extraData = their validator_set_commitment(). Error: an empty validator list or a duplicate
/// address.
[[nodiscard]] Result<std::string> make_consensus_genesis_json(
    uint64_t chain_id, uint64_t gas_limit, const std::vector<Address>& validators,
    const std::vector<Address>& funded);

/// 10,000 ETH.
[[nodiscard]] U256 dev_account_balance();

/// The genesis state as a StateDiff for StateStore::commit(0, ...).
[[nodiscard]] state::StateDiff genesis_diff(const Genesis& g);
/// The genesis state root (computed in memory).
[[nodiscard]] Hash32 genesis_state_root(const Genesis& g);
/// The genesis header for a state root. Its extraData is g.extra_data, except with validators:
/// then always validator_set_commitment(g.validators), so a Genesis built in code cannot produce
/// a consensus genesis that does not commit to its set.
[[nodiscard]] BlockHeader genesis_header(const Genesis& g, const Hash32& state_root);

}  // namespace pel::node
