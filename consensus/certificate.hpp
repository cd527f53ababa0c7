// SPDX-License-Identifier: Apache-2.0
// Commit certificates (CommitCertificate is declared in message.hpp with the wire types):
// verification against a validator set. Used by the engine for Commit messages and by the ledger
// and, later, sync, to check a stored or received block's finality proof.
#pragma once

#include <cstdint>

#include "consensus/message.hpp"
#include "consensus/signature_cache.hpp"
#include "consensus/validator_set.hpp"

namespace pel::consensus {

/// Checks that `cert` proves its value was decided: every signature is a valid low-s precommit
/// signature over (chain_id, cert.height, cert.round, cert.value_id) by a member of
/// `validators`, no member signs twice, and the signers' power reaches the quorum. Errors name
/// the offending signature's position. `cache` (optional) memoises signer recovery.
/// Thread safety: pure, apart from the cache (which must not be shared across threads).
[[nodiscard]] Result<void> verify_certificate(const CommitCertificate& cert,
                                              const ValidatorSet& validators, uint64_t chain_id,
                                              SignatureCache* cache = nullptr);

}  // namespace pel::consensus
