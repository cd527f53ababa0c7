// SPDX-License-Identifier: Apache-2.0
// Helpers for the net tests: keys, signed transactions, waiting, and a raw TCP peer that speaks
// the wire protocol by hand (to send what a well-behaved Network never would).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>

#include <boost/asio.hpp>

#include "net/message.hpp"
#include "net/network.hpp"
#include "primitives/secp256k1.hpp"
#include "primitives/transaction.hpp"

namespace pel::net::test {

inline Hash32 key(uint8_t i) {
    Hash32 k;
    k.bytes[31] = i;
    k.bytes[0] = 0x11;
    return k;
}

inline Address id_of(const Hash32& k) { return *crypto::address_from_secret(k); }

inline Hash32 genesis(uint8_t tag = 0x42) {
    Hash32 g;
    g.bytes.fill(tag);
    return g;
}

inline Config config(uint8_t i, uint64_t chain_id = 7) {
    Config c;
    c.chain_id = chain_id;
    c.genesis_hash = genesis();
    c.node_key = key(i);
    c.handshake_timeout = std::chrono::milliseconds(2000);
    c.backoff_initial = std::chrono::milliseconds(20);
    c.backoff_max = std::chrono::milliseconds(200);
    c.threads = 2;  // strands, not a single thread, keep each peer serial
    return c;
}

/// A signed EIP-1559 transaction; `nonce` makes it distinct.
inline Bytes signed_txn(uint64_t nonce, uint64_t chain_id = 7) {
    Transaction t;
    t.type = TxnType::kDynamicFee;
    t.chain_id = chain_id;
    t.nonce = nonce;
    t.max_priority_fee_per_gas = 1;
    t.max_fee_per_gas = 10;
    t.gas_limit = 21000;
    t.to = Address{};
    t.value = 1;
    PEL_ASSERT(sign_transaction(t, key(200)).has_value(), "test txn signs");
    return encode_transaction(t);
}

/// Polls `pred` until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
}

/// A blocking raw peer (its own io_context, one thread: the caller's).
class RawPeer {
  public:
    explicit RawPeer(uint16_t port) : socket_(io_) {
        boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
        socket_.connect(ep);
    }

    void write(ByteView bytes) {
        boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()));
    }
    void send(MsgKind kind, ByteView payload) { write(encode_frame(kind, payload)); }

    /// Reads one frame; nullopt on EOF / error (the node closed the connection).
    std::optional<std::pair<MsgKind, Bytes>> read_frame() {
        boost::system::error_code ec;
        std::array<uint8_t, 4> len{};
        boost::asio::read(socket_, boost::asio::buffer(len), ec);
        if (ec) return std::nullopt;
        auto n = decode_frame_length(len, kDefaultMaxFrameSize);
        if (!n) return std::nullopt;
        Bytes body(*n);
        boost::asio::read(socket_, boost::asio::buffer(body), ec);
        if (ec) return std::nullopt;
        return std::make_pair(static_cast<MsgKind>(body[0]), Bytes(body.begin() + 1, body.end()));
    }

    /// Reads until the node closes; returns the disconnect reason it sent, if any.
    std::optional<DisconnectReason> read_until_closed() {
        std::optional<DisconnectReason> reason;
        while (auto f = read_frame()) {
            if (f->first == MsgKind::kDisconnect) {
                if (auto r = decode_disconnect(f->second)) reason = *r;
            }
        }
        return reason;
    }

    /// Runs the handshake claiming `claimed` and signing with `signer`; returns the node's Hello.
    std::optional<Hello> handshake(const Config& cfg, const Hash32& signer,
                                   std::optional<Address> claimed = std::nullopt) {
        Hello mine;
        mine.chain_id = cfg.chain_id;
        mine.genesis_hash = cfg.genesis_hash;
        mine.node_id = claimed ? *claimed : id_of(signer);
        mine.nonce.bytes.fill(0x5a);
        send(MsgKind::kHello, encode_hello(mine));
        auto f = read_frame();
        if (!f || f->first != MsgKind::kHello) return std::nullopt;
        auto theirs = decode_hello(f->second);
        if (!theirs) return std::nullopt;
        auto sig = crypto::sign(auth_hash(theirs->nonce, mine), signer);
        send(MsgKind::kAuth, encode_auth(*sig));
        auto a = read_frame();
        if (!a || a->first != MsgKind::kAuth) return std::nullopt;
        return *theirs;
    }

    void close() {
        boost::system::error_code ec;
        socket_.close(ec);
    }

  private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
};

}  // namespace pel::net::test
