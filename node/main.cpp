// SPDX-License-Identifier: Apache-2.0
// pel-node: a single-node Ethereum chain for development and benchmarking. Opens (or creates) the
// chain in the datadir, serves JSON-RPC 2.0 over HTTP and Prometheus metrics, and produces blocks
// on the parallel executor until SIGINT/SIGTERM. Exit status: 0 after a clean stop, 1 when it
// cannot start (bad arguments, datadir, genesis or a port in use), 2 for bad command lines.
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

#include "node/http_server.hpp"
#include "node/json_codec.hpp"
#include "node/metrics.hpp"
#include "node/node.hpp"
#include "node/rpc_dispatch.hpp"
#include "node/rpc_eth.hpp"
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
        "pel-node: a single-node Ethereum chain (Cancun) for development and load tests.\n"
        "It serves the Ethereum JSON-RPC API over HTTP (eth_*, net_*, web3_*, filters, and\n"
        "pel_getBlockConflicts for the per-block Block-STM conflict report), executes every\n"
        "block on the Block-STM parallel executor and commits blocks, receipts and state to\n"
        "LevelDB in --datadir; a restart resumes at the head. Without --genesis it starts a dev\n"
        "chain whose 10 accounts (mnemonic \"test test ... junk\", m/44'/60'/0'/0/i) hold\n"
        "10,000 ETH each and prints them, as anvil does. With --block-time 0 (automine) a block\n"
        "is produced as soon as the pool has executable transactions.",
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

    app.add_option("--datadir", cfg.datadir,
                   "Data directory (LevelDB lives in <datadir>/chaindata)")
        ->capture_default_str();
    app.add_option("--http.addr", http.address, "JSON-RPC listen address")->capture_default_str();
    app.add_option("--http.port", http.port, "JSON-RPC port (0 = any free port)")
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
    app.add_option("--chain-id", cfg.chain_id, "Chain id of the dev chain (a genesis file's wins)")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 53));
    app.add_option("--genesis", genesis,
                   "geth genesis.json (config.chainId, alloc, gasLimit, baseFeePerGas, "
                   "timestamp); without it: the dev chain")
        ->check(CLI::ExistingFile);
    app.add_option("--block-time", cfg.block_time_s,
                   "Seconds between blocks; 0 = automine (a block whenever transactions are ready)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 3600.0));
    app.add_option("--threads", cfg.threads, "Block-STM executor threads")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
    app.add_option("--gas-limit", cfg.gas_limit, "Block gas limit of the dev chain")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{21000}, uint64_t{1} << 62));
    auto* metrics_port =
        app.add_option("--metrics.port", metrics_opts.port,
                       "Prometheus /metrics port; 0 = off. If the default port is taken the node "
                       "runs without metrics (an explicit port that is taken is an error)")
            ->capture_default_str();
    app.add_option("--metrics.addr", metrics_opts.address, "Prometheus listen address")
        ->capture_default_str();
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

    // Listen first, so that a port in use fails before the datadir is touched. Until the node is
    // open and the methods are registered, requests get "-32603 node is starting".
    std::atomic<const rpc::Dispatcher*> ready{nullptr};
    auto server =
        HttpServer::start(http, [&ready](std::string_view body) -> std::optional<std::string> {
            const rpc::Dispatcher* d = ready.load(std::memory_order_acquire);
            if (d == nullptr) {
                return rpc::Dispatcher::error_response(rpc::kInternalError, "node is starting");
            }
            return d->handle(body);
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
    eth_opts.client_version = std::string("pel-node/v") + kVersion + "/linux/c++20";
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
    std::printf("Block time:        %s\n", cfg.block_time_s == 0
                                               ? "automine"
                                               : (std::to_string(cfg.block_time_s) + " s").c_str());
    std::printf("Executor threads:  %zu\n", cfg.threads);
    std::printf("Datadir:           %s\n", cfg.datadir.c_str());
    if ((*metrics)->port() != 0) {
        std::printf("Metrics:           http://%s:%u/metrics\n", metrics_opts.address.c_str(),
                    static_cast<unsigned>((*metrics)->port()));
    }
    std::printf("\nListening on %s:%u\n", http.address.c_str(),
                static_cast<unsigned>((*server)->port()));
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    // A second signal while stopping forces the exit.
    std::thread([stop_signals] {
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
