// SPDX-License-Identifier: Apache-2.0
#include "node/node_key.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>

#include "primitives/secp256k1.hpp"

namespace pel::node {
namespace {

Result<void> fsync_path(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
        return make_error(path, ": ", std::strerror(errno));
    }
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) {
        return make_error(path, ": fsync: ", std::strerror(errno));
    }
    return {};
}

}  // namespace

Result<void> write_file_atomic(const std::string& path, ByteView data, unsigned mode) {
    const std::filesystem::path p(path);
    const std::string tmp = path + ".tmp";
    const int fd =
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) {
        return make_error(tmp, ": ", std::strerror(errno));
    }
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const std::string err = std::strerror(errno);
            ::close(fd);
            return make_error(tmp, ": write: ", err);
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
        const std::string err = std::strerror(errno);
        ::close(fd);
        return make_error(tmp, ": fsync: ", err);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        return make_error(path, ": rename: ", std::strerror(errno));
    }
    const std::string dir = p.has_parent_path() ? p.parent_path().string() : std::string(".");
    return fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

Result<NodeKey> load_or_create_node_key(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        const std::filesystem::path p(path);
        if (p.has_parent_path()) {
            std::filesystem::create_directories(p.parent_path(), ec);
            if (ec) {
                return make_error("node key ", path, ": ", ec.message());
            }
        }
        std::random_device rd;
        for (;;) {
            Hash32 k;
            for (size_t i = 0; i < 32; i += 4) {
                const uint32_t r = rd();
                std::memcpy(k.bytes.data() + i, &r, 4);
            }
            auto addr = crypto::address_from_secret(k);
            if (!addr) {
                continue;  // zero or above the curve order (probability ~2^-128)
            }
            PEL_TRY_VOID(write_file_atomic(path, as_bytes(k.to_hex() + "\n"), 0600));
            return NodeKey{k, *addr};
        }
    }
    std::ifstream in(path);
    if (!in) {
        return make_error("node key ", path, ": cannot read the file");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    if (text.size() != 66 || text.rfind("0x", 0) != 0) {
        return make_error("node key ", path, ": expected 0x followed by 64 hex digits on one line");
    }
    auto key = Hash32::from_hex(text);
    if (!key) {
        return make_error("node key ", path, ": ", key.error().message);
    }
    auto addr = crypto::address_from_secret(*key);
    if (!addr) {
        return make_error("node key ", path, ": not a valid secp256k1 secret key");
    }
    return NodeKey{*key, *addr};
}

}  // namespace pel::node
