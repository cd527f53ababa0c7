// SPDX-License-Identifier: Apache-2.0
// What the JSON-RPC method families (rpc_eth, rpc_ots) share: NodeApi errors as JSON-RPC errors,
// and the block parameter as a selector.
// Thread safety: pure functions (block_selector reads the node, which is thread safe).
#pragma once

#include <cstddef>
#include <utility>

#include "node/api.hpp"
#include "node/rpc_dispatch.hpp"

namespace pel::node::rpc {

/// A NodeApi error as geth answers it: its kind's code (api.hpp), and a revert as code 3 with
/// "execution reverted[: reason]" and the revert data as hex.
[[nodiscard]] RpcError from_api(const ApiError& e);

template <class T>
[[nodiscard]] Result<T, RpcError> api(ApiResult<T> r) {
    if (!r) {
        return unexpected(from_api(r.error()));
    }
    return std::move(r).value();
}

/// The block parameter at position `i` (absent: latest). A hash (EIP-1898, only when
/// `allow_hash`) is resolved to its number (-32000 "header for hash not found" when unknown).
[[nodiscard]] Result<BlockSelector, RpcError> block_selector(const NodeApi& node, const Params& p,
                                                             size_t i, bool allow_hash);

}  // namespace pel::node::rpc
