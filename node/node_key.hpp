// SPDX-License-Identifier: Apache-2.0
// The node key file (--node-key, default <datadir>/nodekey): a secp256k1 secret key as "0x" + 64
// hex digits on one line. The node id is the key's address; in consensus mode the node key is
// also the validator key. A missing file is created with a fresh random key (mode 0600).
#pragma once

#include <string>

#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/result.hpp"

namespace pel::node {

struct NodeKey {
    Hash32 secret;
    Address address;
};

/// Reads the key at `path`, or creates the file (and its parent directory) with a new random key
/// when it does not exist (written to a temporary file, fsynced, renamed; mode 0600). Errors: an
/// unreadable file, content that is not 0x + 64 hex digits (a trailing newline is allowed), an
/// invalid secp256k1 key, I/O. Thread safety: do not call concurrently for the same path.
[[nodiscard]] Result<NodeKey> load_or_create_node_key(const std::string& path);

/// Writes `data` to `path` atomically and durably: a temporary file in the same directory, fsync,
/// rename over `path`, fsync of the directory. `mode` is the new file's permission bits.
[[nodiscard]] Result<void> write_file_atomic(const std::string& path, ByteView data, unsigned mode);

}  // namespace pel::node
