// SPDX-License-Identifier: Apache-2.0
#include "consensus/certificate.hpp"

#include <vector>

namespace pel::consensus {

Result<void> verify_certificate(const CommitCertificate& cert, const ValidatorSet& validators,
                                uint64_t chain_id, SignatureCache* cache) {
    if (cert.round < 0 || cert.round > kMaxRound) {
        return make_error("consensus: certificate round ", cert.round, " out of range");
    }
    if (cert.signatures.size() > validators.size()) {
        return make_error("consensus: certificate has ", cert.signatures.size(), " signatures for ",
                          validators.size(), " validators");
    }
    const Hash32 digest =
        vote_digest(chain_id, VoteType::kPrecommit, cert.height, cert.round, cert.value_id);
    std::vector<bool> seen(validators.size(), false);
    uint64_t power = 0;
    for (size_t i = 0; i < cert.signatures.size(); ++i) {
        Result<Address> signer = cache != nullptr
                                     ? cache->recover(digest, cert.signatures[i])
                                     : crypto::recover_address(digest, cert.signatures[i], true);
        if (!signer) {
            return make_error("consensus: certificate signature ", i,
                              " is invalid: ", signer.error().message);
        }
        const auto idx = validators.index_of(*signer);
        if (!idx) {
            return make_error("consensus: certificate signature ", i, " is by ", signer->to_hex(),
                              ", not a validator");
        }
        if (seen[*idx]) {
            return make_error("consensus: certificate signature ", i, " repeats validator ", *idx);
        }
        seen[*idx] = true;
        power += validators.at(*idx).power;
    }
    if (power < validators.quorum_power()) {
        return make_error("consensus: certificate signers hold power ", power,
                          ", below the quorum ", validators.quorum_power());
    }
    return {};
}

}  // namespace pel::consensus
