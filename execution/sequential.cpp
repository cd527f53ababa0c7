// SPDX-License-Identifier: Apache-2.0
#include "execution/sequential.hpp"

#include "primitives/assert.hpp"

namespace pel::exec {

void apply_writes(state::MemState& state, const TxnWrites& writes) {
    for (const AccountWrite& w : writes.accounts) {
        if (w.deleted) {
            state.erase(w.address);
            continue;
        }
        if (w.storage_cleared) {
            state.clear_storage(w.address);
        }
        state.create(w.address);
        state.set_nonce(w.address, w.info.nonce);
        state.set_balance(w.address, w.info.balance);
        if (w.code) {
            state.set_code(w.address, *w.code);
        }
        for (const StorageWrite& s : w.storage) {
            state.set_storage(w.address, s.key, s.value);
        }
    }
}

Result<BlockResult, BlockError> execute_block_sequential(state::MemState& state, vm::Vm& vm,
                                                         const BlockEnv& env,
                                                         std::span<const Transaction> txns,
                                                         std::span<const Address> senders,
                                                         FrameTracer* tracer) {
    PEL_ASSERT(txns.size() == senders.size(), "one sender per transaction");
    BlockResult out;
    out.receipts.reserve(txns.size());
    for (size_t i = 0; i < txns.size(); ++i) {
        const Transaction& txn = txns[i];
        if (const auto err = check_block_room(env, txn, out.gas_used, out.blob_gas_used)) {
            return unexpected(BlockError{i, *err});
        }
        MemStateReader reader(state);
        Result<TxnResult, TxnError> r = apply_transaction(reader, vm, env, txn, senders[i], tracer);
        if (!r) {
            return unexpected(BlockError{i, r.error()});
        }
        apply_writes(state, r->writes);
        out.gas_used += r->receipt.gas_used;
        out.blob_gas_used += r->receipt.blob_gas_used;
        r->receipt.cumulative_gas_used = out.gas_used;
        out.receipts.push_back(std::move(r->receipt));
    }
    return out;
}

}  // namespace pel::exec
