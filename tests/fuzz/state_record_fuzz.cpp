// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the state store's record decoders: what the store reads back from LevelDB
// at open and on every cold load, where a damaged database must give an error ("database
// corrupt"), never a crash or a wrong value. The same bytes go through:
//  - decode_account (the trie's account leaves) and decode_stored_account (flat account records);
//  - hex_prefix_decode (the Yellow Paper's path encoding);
//  - decode_node_record (the trie's path-keyed node records, state/internal/path_trie.hpp).
// Checks: no crash or undefined behaviour (the fuzz preset builds with ASan+UBSan), and what a
// decoder accepts encodes back to exactly the input, so one stored value has one meaning; for a
// node record also that the ref it yields is the one its node hashes to.
// Seeds: state_record_corpus/ (an account, a stored plain account, a leaf, a plain account leaf,
// an extension, a narrow and a wide branch record).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "state/account.hpp"
#include "state/internal/path_trie.hpp"
#include "state/trie_node.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "state_record_fuzz: %s\n", what);
    std::abort();
}

void check_node_record(pel::ByteView in) {
    using pel::state::internal::NodeKind;
    const auto rec = pel::state::internal::decode_node_record(in);
    if (!rec) {
        return;
    }
    pel::Bytes again;
    if (rec->node == nullptr) {
        // A wide branch: its record is its own ref and nothing else.
        if (rec->kind != NodeKind::kBranch) fail("a record without a node that is not a branch");
        again.push_back(static_cast<uint8_t>(NodeKind::kBranch));
        again.push_back(rec->ref.size);
        pel::append(again, rec->ref.view());
    } else {
        if (rec->node->kind != rec->kind) fail("node and record kinds differ");
        pel::state::internal::encode_node_record(again, *rec->node, rec->ref);
        // The ref must be the node's own: leaves and extensions have it computed from the record,
        // narrow branches have it checked against their children's refs.
        pel::Bytes rlp;
        const pel::state::internal::TrieNode& n = *rec->node;
        if (n.kind == NodeKind::kLeaf) {
            pel::state::encode_leaf(rlp, n.path, n.value);
        } else if (n.kind == NodeKind::kExtension) {
            pel::state::encode_extension(rlp, n.path, n.children.at(0).ref.view());
        } else {
            std::array<pel::ByteView, 16> children{};
            for (size_t i = 0; i < 16; ++i) children[i] = n.children.at(i).ref.view();
            pel::state::encode_branch(rlp, children, {});
        }
        const pel::state::NodeRef ref = pel::state::make_node_ref(rlp);
        if (!pel::equal(ref.view(), rec->ref.view())) fail("node record ref is not its node's");
    }
    if (!pel::equal(again, in)) fail("accepted node record does not re-encode identically");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const pel::ByteView in{data, size};
    if (const auto account = pel::state::decode_account(in); account) {
        if (!pel::equal(pel::state::encode_account(*account), in)) {
            fail("accepted account does not re-encode identically");
        }
    }
    if (const auto account = pel::state::decode_stored_account(in); account) {
        pel::Bytes again;
        pel::state::encode_stored_account(again, *account);
        if (!pel::equal(again, in)) fail("accepted stored account does not re-encode identically");
    }
    if (const auto path = pel::state::hex_prefix_decode(in); path) {
        pel::Bytes again;
        pel::state::hex_prefix_encode(again, path->nibbles, path->leaf);
        if (!pel::equal(again, in)) fail("accepted hex-prefix path does not re-encode identically");
    }
    check_node_record(in);
    return 0;
}
