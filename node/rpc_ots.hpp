// SPDX-License-Identifier: Apache-2.0
// The Otterscan methods (ots_*, API level 8, as Erigon defines them; anvil answers them too) and
// erigon_getHeaderByNumber, which the Otterscan block explorer needs besides the eth_* methods:
//
//  - ots_getApiLevel: 8.
//  - ots_hasCode(address, block): whether the account has code at that block.
//  - ots_traceTransaction(hash): every call frame in order, {type, depth, from, to, value, input,
//    output}; value is null for STATICCALL and DELEGATECALL; a SELFDESTRUCT is an entry one level
//    below its frame (value: the balance sent, input and output "0x").
//  - ots_getInternalOperations(hash): the value transfers of CALLs below the top frame, creates
//    (CREATE 2, CREATE2 3) and self-destructs (1) below it, as {type, from, to, value}; type 0 is
//    a transfer.
//  - ots_getTransactionError(hash): the top frame's revert data ("0x" when it did not revert).
//  - ots_getBlockDetails(number) / ots_getBlockDetailsByHash(hash): {block, issuance, totalFees}:
//    the block without its transactions but with transactionCount and a null logsBloom; no
//    issuance after the merge (zeros); the sum of gasUsed times effectiveGasPrice.
//  - ots_getBlockTransactions(number, page, pageSize): {fullblock, receipts}: page 0 holds the
//    last pageSize transactions of the block, page 1 the pageSize before them, ...; inputs cut to
//    their 4-byte selector; receipts with null logs and logsBloom.
//  - ots_searchTransactionsBefore / After(address, block, pageSize): the transactions sent by the
//    address, sent to it or creating it, in the blocks before (after) `block` (0: from the head,
//    from genesis), newest first, with their receipts (plus the block's "timestamp"); whole
//    blocks, so a page may exceed pageSize (at most kMaxOtsPageSize). firstPage: nothing newer;
//    lastPage: nothing older. Erigon also finds an address in internal calls (from its index of
//    call traces); here only the transactions' own sender, recipient and created contract count.
//  - ots_getTransactionBySenderAndNonce(address, nonce): the hash, or null.
//  - ots_getContractCreator(address): {hash, creator} of the transaction that created the
//    contract at the address (creator: the account whose CREATE or CREATE2 made it, an internal
//    one too when its block's parent state is within --history.state), or null.
//
// Thread safety: the handlers may run from many threads at once (NodeApi is thread safe).
#pragma once

#include <cstddef>

#include "node/api.hpp"
#include "node/rpc_dispatch.hpp"

namespace pel::node::rpc {

/// The largest pageSize ots_searchTransactions* and ots_getBlockTransactions accept.
inline constexpr size_t kMaxOtsPageSize = 1000;

/// Adds the methods above to `dispatcher`; `node` must outlive the handlers.
void register_ots_methods(Dispatcher& dispatcher, NodeApi& node);

}  // namespace pel::node::rpc
