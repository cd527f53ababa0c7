// SPDX-License-Identifier: Apache-2.0
#include "node/pool_journal.hpp"

#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "node/node_key.hpp"
#include "primitives/rlp.hpp"

namespace pel::node {

Bytes encode_pool_journal(std::span<const Bytes> raws) {
    Bytes out;
    rlp::encode_bytes_list(out, raws);
    return out;
}

Result<std::vector<Bytes>> decode_pool_journal(ByteView content) {
    auto raws = rlp::decode_bytes_list(content);
    if (!raws) {
        return make_error("txpool journal: ", raws.error().message);
    }
    return std::move(*raws);
}

Result<void> write_pool_journal(const std::filesystem::path& file, std::span<const Bytes> raws) {
    if (auto r = write_file_atomic(file.string(), encode_pool_journal(raws), 0644); !r) {
        return make_error("txpool journal: cannot create or replace ", file.string(), " (",
                          r.error().message, ")");
    }
    return {};
}

Result<std::optional<std::vector<Bytes>>> read_pool_journal(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        if (ec) {
            return make_error("txpool journal: cannot inspect ", file.string(), ": ", ec.message());
        }
        return std::optional<std::vector<Bytes>>();
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return make_error("txpool journal: cannot open ", file.string());
    }
    const Bytes content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
        return make_error("txpool journal: cannot read ", file.string());
    }
    auto raws = decode_pool_journal(content);
    if (!raws) {
        return make_error(raws.error().message, " (", file.string(), ")");
    }
    return std::optional<std::vector<Bytes>>(std::move(*raws));
}

}  // namespace pel::node
