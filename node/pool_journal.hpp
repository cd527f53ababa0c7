// SPDX-License-Identifier: Apache-2.0
// The transaction pool journal: the raw transactions of the pool, written to a file in the datadir
// when the node closes and admitted again when it next opens, so that a restart loses no pending
// or queued transaction (go-ethereum journals its local transactions the same way). The node
// consumes the file at open; a transaction that is no longer valid then (mined, replaced, out of
// funds) is dropped with its admission error.
//
// File format: rlp([raw transaction, ...]) (each item a byte string holding the transaction's
// canonical encoding, typed ones as type || payload; a blob transaction in its EIP-4844 network
// form with the sidecar, which admission checks again), senders in ascending address order and each
// sender's transactions by nonce. Written with write_file_atomic (node_key.hpp: <file>.tmp,
// fsync, rename, directory fsync), so a crash while writing leaves the previous file or none,
// never a torn one.
//
// Thread safety: pure functions; concurrent calls on the same file are the caller's to prevent.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "primitives/bytes.hpp"
#include "primitives/result.hpp"

namespace pel::node {

/// The journal file's name in the datadir.
inline constexpr const char* kPoolJournalFile = "txpool.rlp";

/// rlp([raw, ...]).
[[nodiscard]] Bytes encode_pool_journal(std::span<const Bytes> raws);

/// The raw transactions of a journal. Errors: anything but a canonical RLP list of byte strings
/// with nothing after it ("txpool journal: ..." with the RLP decoder's message). The
/// transactions themselves are not decoded here (admission does that, one by one).
[[nodiscard]] Result<std::vector<Bytes>> decode_pool_journal(ByteView content);

/// Writes the journal atomically (see the file comment). Errors: I/O, with the path.
[[nodiscard]] Result<void> write_pool_journal(const std::filesystem::path& file,
                                              std::span<const Bytes> raws);

/// Reads and decodes the journal; nullopt when there is no such file. Errors: I/O, or a file that
/// does not decode (with the path).
[[nodiscard]] Result<std::optional<std::vector<Bytes>>> read_pool_journal(
    const std::filesystem::path& file);

}  // namespace pel::node
