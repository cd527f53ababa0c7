// SPDX-License-Identifier: Apache-2.0
// pel-node: an Ethereum chain (Cancun) for development and benchmarking, as a single node or as
// one validator of a BFT chain. Opens (or creates) the chain in the datadir, serves JSON-RPC 2.0
// over HTTP and Prometheus metrics, and produces blocks on the parallel executor until
// SIGINT/SIGTERM.
//
// Modes (chosen by the genesis): without config.pel.validators, a single node (automine or
// --block-time). With it, a validator: it connects to --peers over TCP (net/), gossips
// transactions, runs the Tendermint engine (consensus/) with its node key (--node-key) as the
// validator key, and stores every decided block with its commit certificate.
// Helpers that exit at once and never open the datadir: --print-node-id (the node key's address,
// creating the key file if missing) and --init-genesis FILE --validators 0xA,0xB,.. (writes a
// devnet genesis with the 10 dev accounts).
//
// Exit status: 0 after a clean stop (or a helper's success), 1 when it cannot start (bad
// arguments, datadir, genesis, node key or a port in use) or when consensus cannot go on, 2 for
// bad command lines.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "node/dev_accounts.hpp"
#include "node/genesis.hpp"
#include "node/http_server.hpp"
#include "node/json_codec.hpp"
#include "node/metrics.hpp"
#include "node/node.hpp"
#include "node/node_key.hpp"
#include "node/rpc_dispatch.hpp"
#include "node/rpc_eth.hpp"
#include "node/rpc_ws.hpp"
#include "primitives/keccak.hpp"
#include "primitives/log.hpp"

namespace {

using namespace pel;
using namespace pel::node;

constexpr const char* kVersion = "0.1.0";

/// EIP-55 mixed-case checksum address (what anvil and wallets print).
std::string checksum_address(const Address& a) {
    const std::string lower = to_hex(a.view(), false);
    const Hash32 h = keccak256(as_bytes(lower));
    std::string out = "0x";
    for (size_t i = 0; i < lower.size(); ++i) {
        const uint8_t nibble = (i % 2 == 0) ? (h.bytes[i / 2] >> 4) : (h.bytes[i / 2] & 0x0f);
        char c = lower[i];
        if (c >= 'a' && c <= 'f' && nibble >= 8) {
            c = static_cast<char>(c - 'a' + 'A');
        }
        out.push_back(c);
    }
    return out;
}

/// A wei amount as ETH with 18 decimals, e.g. "10000.000000000000000000".
std::string format_eth(const U256& wei) {
    const U256 unit(1'000'000'000'000'000'000ULL);
    std::string frac = (wei % unit).to_string();
    frac.insert(0, 18 - frac.size(), '0');
    return (wei / unit).to_string() + "." + frac;
}

void print_dev_accounts(const Node& node) {
    const auto& accounts = node.dev_accounts();
    if (accounts.empty()) {
        return;
    }
    std::string out = "\nAvailable Accounts\n==================\n";
    for (size_t i = 0; i < accounts.size(); ++i) {
        const auto bal = node.balance(accounts[i].address, BlockSelector::latest());
        out += "(" + std::to_string(i) + ") " + checksum_address(accounts[i].address) + " (" +
               (bal ? format_eth(*bal) : std::string("?")) + " ETH)\n";
    }
    out += "\nPrivate Keys\n==================\n";
    for (size_t i = 0; i < accounts.size(); ++i) {
        out += "(" + std::to_string(i) + ") " + accounts[i].secret_key.to_hex() + "\n";
    }
    out +=
        "\nWallet\n==================\nMnemonic:          test test test test test test test test "
        "test test test junk\nDerivation path:   m/44'/60'/0'/0/\n";
    std::fputs(out.c_str(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
    // Block the stop signals before any thread starts: every thread inherits the mask and the
    // main thread receives them with sigwait (no async-signal-safety concerns).
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    CLI::App app{
        "pel-node: an Ethereum chain (Cancun) for development and load tests, as a single node\n"
        "or as one validator of a BFT (Tendermint) chain.\n"
        "It serves the Ethereum JSON-RPC API over HTTP (eth_*, net_*, web3_*, filters, and\n"
        "pel_getBlockConflicts for the per-block Block-STM conflict report), executes every\n"
        "block on the Block-STM parallel executor and commits blocks, receipts and state to\n"
        "LevelDB in --datadir; a restart resumes at the head. Without --genesis it starts a dev\n"
        "chain whose 10 accounts (mnemonic \"test test ... junk\", m/44'/60'/0'/0/i) hold\n"
        "10,000 ETH each and prints them, as anvil does. With --block-time 0 (automine) a block\n"
        "is produced as soon as the pool has executable transactions.\n\n"
        "Consensus mode: a genesis whose config.pel.validators lists validator addresses (0x..,\n"
        "or {\"address\": \"0x..\", \"power\": n}) makes this node a validator: its node key\n"
        "(--node-key) must be one of them (non-validator nodes are not supported). It listens on\n"
        "--p2p.addr:--p2p.port, dials --peers, gossips transactions, and every block is decided\n"
        "by the validators (more than 2/3 of the voting power), re-executed and stored with its\n"
        "commit certificate (the double-sign guard keeps <datadir>/signmark).\n"
        "A restarted node catches up from its peers. Devnet in three commands:\n"
        "  pel-node --node-key k1 --print-node-id     (once per node)\n"
        "  pel-node --init-genesis genesis.json --validators 0xA,0xB,0xC,0xD\n"
        "  pel-node --genesis genesis.json --node-key k1 --datadir d1 --p2p.port 30301 \\\n"
        "           --peers 127.0.0.1:30302@0xB,... --http.port 8545\n"
        "RPC additions: net_peerCount, net_listening, pel_consensusStatus.",
        "pel-node"};
    app.set_version_flag("--version", std::string("pel-node ") + kVersion);

    NodeConfig cfg;
    cfg.datadir = "./pel-data";
    cfg.threads = std::max(1u, std::thread::hardware_concurrency());
    HttpOptions http;
    http.io_threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 2, 8);
    rpc::DispatcherOptions dispatch;
    MetricsOptions metrics_opts;
    metrics_opts.port = 9001;
    std::string genesis;
    std::string log_level = "info";
    std::string node_key_path;
    bool print_node_id = false;
    std::string init_genesis;
    std::string validators_arg;
    std::string peers_arg;

    app.add_option("--datadir", cfg.datadir,
                   "Data directory (LevelDB lives in <datadir>/chaindata)")
        ->capture_default_str();
    app.add_option("--http.addr", http.address, "JSON-RPC listen address")->capture_default_str();
    app.add_option("--http.port", http.port,
                   "JSON-RPC port, HTTP and WebSocket (0 = any free port)")
        ->capture_default_str();
    app.add_option("--http.threads", http.io_threads, "HTTP IO threads")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    app.add_option("--http.maxbody", http.max_body_bytes,
                   "Largest request body in bytes; larger gets HTTP 413")
        ->capture_default_str()
        ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
    app.add_option("--http.maxbatch", dispatch.max_batch, "Most requests in one JSON-RPC batch")
        ->capture_default_str()
        ->check(CLI::Range(size_t{1}, size_t{100'000}));
    app.add_option("--http.corsdomain", http.cors_origin,
                   "Access-Control-Allow-Origin sent to browsers (empty = no CORS headers)")
        ->capture_default_str();
    std::string client_version = std::string("pel-node/v") + kVersion + "/linux/c++20";
    app.add_option("--rpc.client-version", client_version,
                   "What web3_clientVersion (and hardhat_metadata) answer. Tools that only drive "
                   "Hardhat Network or anvil check its start: e.g. 'anvil/v1.0.0 (pel-node)' lets "
                   "hardhat-network-helpers use pel's anvil_* and evm_* methods")
        ->capture_default_str();
    app.add_option("--chain-id", cfg.chain_id, "Chain id of the dev chain (a genesis file's wins)")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 53));
    app.add_option("--genesis", genesis,
                   "geth genesis.json (config.chainId, alloc, gasLimit, baseFeePerGas, "
                   "timestamp); without it: the dev chain")
        ->check(CLI::ExistingFile);
    auto* block_time_opt =
        app.add_option(
               "--block-time", cfg.block_time_s,
               "Single node: seconds between blocks; 0 = automine (a block whenever "
               "transactions are ready). Consensus mode (default 1): the longest a proposer "
               "with an empty pool waits for transactions before it proposes an empty "
               "block (capped at 0.6 x the propose timeout); with ready transactions it "
               "proposes at once")
            ->capture_default_str()
            ->check(CLI::Range(0.0, 3600.0));
    app.add_option("--automine.gather-ms", cfg.automine_gather_ms,
                   "Automine under load: when transactions arrived while a block was being "
                   "built, wait up to this many milliseconds for more before building the next "
                   "(less once the pool holds a full block; not after a block full by gas); the "
                   "first block after an empty pool is built at once. 0 = the next block at once")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1000.0));
    app.add_option("--history.state", cfg.state_history,
                   "State reads (eth_getBalance, eth_call, debug_trace*, ...) also at the last N "
                   "blocks below the head, from the old values each block changed (stored with "
                   "the blocks: they survive a restart); 0 = the head only")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{0}, uint64_t{1'000'000}));
    app.add_option("--threads", cfg.threads, "Block-STM executor threads")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
    app.add_option("--gas-limit", cfg.gas_limit, "Block gas limit of the dev chain")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{21000}, uint64_t{1} << 62));
    bool no_journal = false;
    app.add_flag("--txpool.nojournal", no_journal,
                 "Do not keep the pool across restarts (by default its transactions are written "
                 "to <datadir>/txpool.rlp at shutdown and admitted again at the next start)");
    auto* metrics_port =
        app.add_option("--metrics.port", metrics_opts.port,
                       "Prometheus /metrics port; 0 = off. If the default port is taken the node "
                       "runs without metrics (an explicit port that is taken is an error)")
            ->capture_default_str();
    app.add_option("--metrics.addr", metrics_opts.address, "Prometheus listen address")
        ->capture_default_str();
    app.add_option("--node-key", node_key_path,
                   "Node key file: the secp256k1 secret key as 0x + 64 hex digits on one line; "
                   "created with a fresh random key (mode 0600) if missing. The node id is its "
                   "address; in consensus mode it is the validator key [default: "
                   "<datadir>/nodekey]");
    app.add_flag("--print-node-id", print_node_id,
                 "Print the node key's address (0x, lowercase) and exit; creates the key file if "
                 "missing; does not open the datadir");
    app.add_option("--init-genesis", init_genesis,
                   "Write a consensus genesis.json to this file and exit (with --validators; "
                   "chainId from --chain-id, gasLimit from --gas-limit, baseFeePerGas 1 gwei, "
                   "timestamp 0, the 10 dev accounts with 10,000 ETH each); does not open the "
                   "datadir");
    app.add_option("--validators", validators_arg,
                   "With --init-genesis: comma-separated validator addresses (0x..)");
    app.add_option("--p2p.addr", cfg.p2p_addr, "Consensus mode: p2p listen address")
        ->capture_default_str();
    app.add_option("--p2p.port", cfg.p2p_port,
                   "Consensus mode: p2p port (0 = any free port; the bound port is logged)")
        ->capture_default_str();
    app.add_option("--peers", peers_arg,
                   "Consensus mode: static peers, comma-separated host:port[@0xnodeid] (with "
                   "@nodeid the peer must prove that id at handshake)");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
        ->capture_default_str()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    if (auto r = pel::log::init(log_level); !r) {
        std::fprintf(stderr, "pel-node: %s\n", r.error().message.c_str());
        return 2;
    }
    if (!genesis.empty()) {
        cfg.genesis_path = genesis;
    }
    cfg.txpool_journal = !no_journal;
    if (node_key_path.empty()) {
        node_key_path = (std::filesystem::path(cfg.datadir) / "nodekey").string();
    }

    // Helpers that exit at once.
    if (print_node_id) {
        auto key = load_or_create_node_key(node_key_path);
        if (!key) {
            std::fprintf(stderr, "pel-node: %s\n", key.error().message.c_str());
            return 1;
        }
        std::printf("%s\n", key->address.to_hex().c_str());
        return 0;
    }
    if (!init_genesis.empty() || !validators_arg.empty()) {
        if (init_genesis.empty()) {
            std::fprintf(stderr, "pel-node: --validators needs --init-genesis FILE\n");
            return 1;
        }
        std::vector<Address> validators;
        size_t start = 0;
        while (start <= validators_arg.size()) {
            const size_t comma = std::min(validators_arg.find(',', start), validators_arg.size());
            const std::string item = validators_arg.substr(start, comma - start);
            if (!item.empty()) {
                auto a = Address::from_hex(item);
                if (!a || item.size() != 42 || item.rfind("0x", 0) != 0) {
                    std::fprintf(stderr,
                                 "pel-node: --validators: '%s' is not an address (0x + 40 hex "
                                 "digits)\n",
                                 item.c_str());
                    return 1;
                }
                validators.push_back(*a);
            }
            start = comma + 1;
        }
        if (validators.empty()) {
            std::fprintf(stderr, "pel-node: --init-genesis needs --validators 0xA,0xB,...\n");
            return 1;
        }
        auto dev = derive_dev_accounts(kDevMnemonic, 10);
        if (!dev) {
            std::fprintf(stderr, "pel-node: %s\n", dev.error().message.c_str());
            return 1;
        }
        std::vector<Address> funded;
        for (const auto& d : *dev) {
            funded.push_back(d.address);
        }
        auto text = make_consensus_genesis_json(cfg.chain_id, cfg.gas_limit, validators, funded);
        if (!text) {
            std::fprintf(stderr, "pel-node: --init-genesis: %s\n", text.error().message.c_str());
            return 1;
        }
        if (auto w = write_file_atomic(init_genesis, pel::as_bytes(*text), 0644); !w) {
            std::fprintf(stderr, "pel-node: --init-genesis: %s\n", w.error().message.c_str());
            return 1;
        }
        std::printf("wrote %s (chain id %llu, %zu validators)\n", init_genesis.c_str(),
                    static_cast<unsigned long long>(cfg.chain_id), validators.size());
        return 0;
    }
    if (!peers_arg.empty()) {
        auto peers = net::parse_peer_list(peers_arg);
        if (!peers) {
            spdlog::error("--peers: {}", peers.error().message);
            return 1;
        }
        cfg.peers = std::move(*peers);
    }
    // Consensus mode needs the node key (and defaults --block-time to 1 s).
    bool consensus_mode = false;
    if (cfg.genesis_path) {
        auto g = load_genesis_file(*cfg.genesis_path, Genesis{});
        if (!g) {
            spdlog::error("{}", g.error().message);
            return 1;
        }
        consensus_mode = !g->validators.empty();
    }
    if (consensus_mode) {
        if (block_time_opt->count() == 0) {
            cfg.block_time_s = 1;
        }
        auto key = load_or_create_node_key(node_key_path);
        if (!key) {
            spdlog::error("{}", key.error().message);
            return 1;
        }
        cfg.node_key = key->secret;
    }

    // Listen first, so that a port in use fails before the datadir is touched. Until the node is
    // open and the methods are registered, requests get "-32603 node is starting".
    // WebSocket connections (same port) are refused with "try again later" until then.
    std::atomic<const rpc::Dispatcher*> ready{nullptr};
    std::atomic<NodeApi*> ready_node{nullptr};
    auto server = HttpServer::start(
        http,
        [&ready](std::string_view body) -> std::optional<std::string> {
            const rpc::Dispatcher* d = ready.load(std::memory_order_acquire);
            if (d == nullptr) {
                return rpc::Dispatcher::error_response(rpc::kInternalError, "node is starting");
            }
            return d->handle(body);
        },
        [&ready, &ready_node](WsSend send) -> std::unique_ptr<WsConnection> {
            const rpc::Dispatcher* d = ready.load(std::memory_order_acquire);
            if (d == nullptr) {
                return nullptr;
            }
            return std::make_unique<rpc::WsRpcConnection>(*ready_node.load(), *d, std::move(send));
        });
    if (!server) {
        spdlog::error("{}", server.error().message);
        return 1;
    }

    // The datadir must be a directory we can create and write.
    {
        std::error_code ec;
        const std::filesystem::path dir(cfg.datadir);
        if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
            spdlog::error("datadir '{}' exists and is not a directory", cfg.datadir);
            return 1;
        }
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            spdlog::error("cannot create datadir '{}': {}", cfg.datadir, ec.message());
            return 1;
        }
    }

    auto opened = Node::open(cfg);
    if (!opened) {
        const std::string& msg = opened.error().message;
        spdlog::error("cannot open the chain in '{}': {}{}", cfg.datadir, msg,
                      msg.find("LOCK") != std::string::npos
                          ? " (is another pel-node using this datadir?)"
                          : "");
        return 1;
    }
    std::unique_ptr<Node> node = std::move(opened).value();

    // Metrics (the registry always exists: the RPC latency observer feeds it).
    const bool metrics_port_explicit = metrics_port->count() > 0;
    auto metrics = Metrics::start(*node, metrics_opts);
    if (!metrics && !metrics_port_explicit) {
        spdlog::warn("{}; running without metrics (choose a port with --metrics.port)",
                     metrics.error().message);
        metrics_opts.port = 0;
        metrics = Metrics::start(*node, metrics_opts);
    }
    if (!metrics) {
        spdlog::error("{}", metrics.error().message);
        return 1;
    }

    rpc::Dispatcher dispatcher(dispatch);
    rpc::EthRpcOptions eth_opts;
    eth_opts.client_version = client_version;
    auto eth = std::make_unique<rpc::EthRpc>(*node, eth_opts);
    eth->register_methods(dispatcher);
    Metrics* m = metrics->get();
    dispatcher.set_observer(
        [m](std::string_view method, std::chrono::nanoseconds elapsed, int code) {
            m->observe_rpc(method, elapsed, code);
            if (code != 0) {
                spdlog::debug("rpc {} -> error {} ({:.3f} ms)", method.empty() ? "?" : method, code,
                              std::chrono::duration<double, std::milli>(elapsed).count());
            } else {
                spdlog::trace("rpc {} ({:.3f} ms)", method,
                              std::chrono::duration<double, std::milli>(elapsed).count());
            }
        });

    ready_node.store(node.get());
    ready.store(&dispatcher, std::memory_order_release);
    if (auto r = node->start(); !r) {
        spdlog::error("cannot start block production: {}", r.error().message);
        (*server)->stop();
        return 1;
    }

    const auto head = node->head();
    std::printf("\npel-node %s\n", kVersion);
    print_dev_accounts(*node);
    std::printf("\nChain ID:          %llu\n", static_cast<unsigned long long>(node->chain_id()));
    std::printf("Genesis:           %s\n", json::hash(node->genesis_hash()).c_str());
    std::printf("Head:              %llu (%s)\n", static_cast<unsigned long long>(head.number),
                json::hash(head.hash).c_str());
    std::printf("Block time:        %s\n", node->consensus_mode() ? "decided by consensus"
                                           : cfg.block_time_s == 0
                                               ? "automine"
                                               : (std::to_string(cfg.block_time_s) + " s").c_str());
    std::printf("Executor threads:  %zu\n", cfg.threads);
    std::printf("Malloc:            %s\n", log::malloc_name().c_str());
    if (node->consensus_mode()) {
        const auto cs = node->consensus_status();
        std::printf("Consensus:         validator %s of %zu\n", node->node_id().to_hex().c_str(),
                    cs.validators);
        std::printf("P2P:               %s:%u (%zu static peers)\n", cfg.p2p_addr.c_str(),
                    static_cast<unsigned>(node->p2p_port()), cfg.peers.size());
    }
    std::printf("Datadir:           %s\n", cfg.datadir.c_str());
    if ((*metrics)->port() != 0) {
        std::printf("Metrics:           http://%s:%u/metrics\n", metrics_opts.address.c_str(),
                    static_cast<unsigned>((*metrics)->port()));
    }
    std::printf("\nListening on %s:%u (HTTP and WebSocket)\n", http.address.c_str(),
                static_cast<unsigned>((*server)->port()));
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    // A second signal while stopping forces the exit.
    std::thread([stop_signals] {
        pel::log::name_thread("pel-signals");
        int again = 0;
        sigwait(&stop_signals, &again);
        std::fputs("pel-node: forced exit\n", stderr);
        std::_Exit(130);
    }).detach();

    (*server)->stop();  // finish in-flight requests, close connections
    eth.reset();        // unsubscribe the filters
    node->stop();       // finish the block in progress; everything committed stays
    (*metrics)->stop();
    spdlog::info("stopped at block {}", node->head().number);
    return 0;
}
