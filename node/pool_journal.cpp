// SPDX-License-Identifier: Apache-2.0
#include "node/pool_journal.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <unistd.h>
#include <utility>

#include "primitives/rlp.hpp"

namespace pel::node {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Writes all of `data` to a new file at `path` and syncs it.
Result<void> write_synced(const std::filesystem::path& path, ByteView data) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return make_error("txpool journal: cannot create ", path.string(), ": ", errno_text());
    }
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const std::string why = errno_text();
            ::close(fd);
            return make_error("txpool journal: cannot write ", path.string(), ": ", why);
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
        const std::string why = errno_text();
        ::close(fd);
        return make_error("txpool journal: cannot sync ", path.string(), ": ", why);
    }
    if (::close(fd) != 0) {
        return make_error("txpool journal: cannot close ", path.string(), ": ", errno_text());
    }
    return {};
}

}  // namespace

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
    std::filesystem::path tmp = file;
    tmp += ".tmp";
    PEL_TRY_VOID(write_synced(tmp, encode_pool_journal(raws)));
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) {
        return make_error("txpool journal: cannot rename ", tmp.string(), " to ", file.string(),
                          ": ", ec.message());
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
