// SPDX-License-Identifier: Apache-2.0
// pel-statetest: runs Ethereum GeneralStateTests fixtures (the post["Cancun"] entries) against
// pel's state transition.
//
//   pel-statetest [--verbose] [--filter SUBSTR] [--trace] [--parallel THREADS] PATH...
//
// --parallel THREADS runs every case through the Block-STM executor (exec::ParallelExecutor) on
// THREADS threads as a one-transaction block, and applies its state diff to `pre`, instead of
// the sequential executor.
//
// --filter keeps the cases whose "<file> <test> [d=.. g=.. v=..]" label contains SUBSTR (so a
// FAIL line's label selects exactly that case). --trace prints every call frame of the selected
// cases (entry and exit, with gas) and the post state; opcode-level tracing would need a VM hook.
//
// PATH is a fixture file or a folder (searched recursively for *.json). For every test and every
// Cancun post entry: decode `txbytes` (a decoding or signature failure counts as a rejected
// transaction), load `pre`, execute the transaction as a one-transaction block, then compare the
// state root with `hash` and keccak256(rlp(logs)) with `logs`. An entry with `expectException`
// must be rejected (and the state stay `pre`); any other entry must be accepted. Each failure is
// printed as
//   FAIL <file> <test> [d=.. g=.. v=..]: <reason>
// and the last line is "N passed, N failed, N skipped". The exit status is 1 when anything
// failed, 2 on a usage error.
//
// Exceptions are used at the JSON boundary only (nlohmann throws on malformed fixtures); they are
// caught per test and reported as failures.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "execution/block_executor.hpp"
#include "execution/host.hpp"
#include "execution/sequential.hpp"
#include "execution/transition.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/hex.hpp"
#include "primitives/transaction.hpp"
#include "primitives/u256.hpp"
#include "state/mem_state.hpp"
#include "vm/vm.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using pel::Address;
using pel::Bytes;
using pel::Hash32;
using pel::U256;

struct Options {
    bool verbose = false;
    bool trace = false;
    size_t parallel_threads = 0;  ///< 0: the sequential executor
    std::string filter;
    std::vector<std::string> paths;
};

struct Counts {
    uint64_t passed = 0;
    uint64_t failed = 0;
    uint64_t skipped = 0;
};

// --- fixture parsing (throws std::runtime_error on malformed input) -----------------------------

[[noreturn]] void bad(const std::string& what) { throw std::runtime_error(what); }

std::string as_text(const json& j) {
    if (!j.is_string()) {
        bad("expected a string, got " + j.dump());
    }
    return j.get<std::string>();
}

U256 parse_u256(const json& j) {
    auto r = U256::from_string(as_text(j));
    if (!r) {
        bad(r.error().message);
    }
    return *r;
}

uint64_t parse_u64(const json& j) {
    const U256 v = parse_u256(j);
    if (!v.fits_u64()) {
        bad("value does not fit 64 bits: " + j.dump());
    }
    return v.low64();
}

/// Saturates at INT64_MAX (block gas limits in fixtures may exceed what the EVM can see).
int64_t parse_i64(const json& j) {
    const U256 v = parse_u256(j);
    if (!v.fits_u64() || v.low64() > static_cast<uint64_t>(INT64_MAX)) {
        return INT64_MAX;
    }
    return static_cast<int64_t>(v.low64());
}

Bytes parse_bytes(const json& j) {
    auto r = pel::from_hex(as_text(j));
    if (!r) {
        bad(r.error().message);
    }
    return std::move(r).value();
}

Address parse_address(const json& j) {
    auto r = Address::from_hex(as_text(j));
    if (!r) {
        bad(r.error().message);
    }
    return *r;
}

Hash32 parse_hash(const json& j) { return Hash32::from_view_padded(parse_bytes(j)); }

pel::state::MemState parse_pre(const json& pre) {
    pel::state::MemState st;
    for (const auto& [addr_text, acc] : pre.items()) {
        const Address addr = parse_address(json(addr_text));
        st.create(addr);
        st.set_nonce(addr, parse_u64(acc.at("nonce")));
        st.set_balance(addr, parse_u256(acc.at("balance")));
        Bytes code = parse_bytes(acc.at("code"));
        if (!code.empty()) {
            st.set_code(addr, std::move(code));
        }
        for (const auto& [key, value] : acc.at("storage").items()) {
            st.set_storage(addr, parse_u256(json(key)), parse_u256(value));
        }
    }
    return st;
}

pel::exec::BlockEnv parse_env(const json& env) {
    pel::exec::BlockEnv e;
    e.coinbase = parse_address(env.at("currentCoinbase"));
    e.block_num = parse_i64(env.at("currentNumber"));
    e.timestamp = parse_i64(env.at("currentTimestamp"));
    e.gas_limit = parse_i64(env.at("currentGasLimit"));
    if (env.contains("currentRandom")) {
        e.prev_randao = parse_hash(env.at("currentRandom"));
    }
    if (env.contains("currentBaseFee")) {
        e.base_fee = parse_u256(env.at("currentBaseFee"));
    }
    if (env.contains("currentExcessBlobGas")) {
        e.excess_blob_gas = parse_u64(env.at("currentExcessBlobGas"));
    }
    e.chain_id = 1;
    return e;
}

// --- running -----------------------------------------------------------------------------------

class Runner {
  public:
    explicit Runner(const Options& opts) : opts_(opts) {
        if (opts.parallel_threads != 0) {
            // No fallback: every case goes through the Block-STM machinery.
            parallel_ = std::make_unique<pel::exec::ParallelExecutor>(
                pel::exec::ParallelOptions{opts.parallel_threads, false, 16});
        }
    }

    void run_file(const fs::path& file) {
        json doc;
        try {
            std::ifstream in(file);
            if (!in) {
                bad("cannot open");
            }
            doc = json::parse(in);
        } catch (const std::exception& e) {
            fail(file, "-", "", std::string("bad fixture file: ") + e.what());
            return;
        }
        if (!doc.is_object()) {
            fail(file, "-", "", "bad fixture file: not a JSON object");
            return;
        }
        for (const auto& [name, test] : doc.items()) {
            try {
                run_test(file, name, test);
            } catch (const std::exception& e) {
                fail(file, name, "", std::string("bad fixture: ") + e.what());
            }
        }
    }

    [[nodiscard]] const Counts& counts() const noexcept { return counts_; }

  private:
    void run_test(const fs::path& file, const std::string& name, const json& test) {
        const json& post = test.at("post");
        if (!post.contains("Cancun")) {
            ++counts_.skipped;
            if (opts_.verbose) {
                std::cout << "SKIP " << file.string() << ' ' << name << '\n';
            }
            return;
        }
        const pel::state::MemState pre = parse_pre(test.at("pre"));
        pel::exec::BlockEnv env = parse_env(test.at("env"));
        env.block_hashes = &block_hashes_;

        for (const json& entry : post.at("Cancun")) {
            const json& idx = entry.at("indexes");
            const std::string where = "[d=" + std::to_string(idx.at("data").get<int64_t>()) +
                                      " g=" + std::to_string(idx.at("gas").get<int64_t>()) +
                                      " v=" + std::to_string(idx.at("value").get<int64_t>()) + "]";
            if (!opts_.filter.empty()) {
                std::string label = file.string();
                label.append(" ").append(name).append(" ").append(where);
                if (label.find(opts_.filter) == std::string::npos) {
                    continue;
                }
            }
            if (opts_.trace) {
                std::cout << "TRACE " << file.string() << ' ' << name << ' ' << where << '\n';
            }
            const std::optional<std::string> reason = run_entry(pre, env, entry);
            if (reason) {
                fail(file, name, where, *reason);
            } else {
                ++counts_.passed;
                if (opts_.verbose) {
                    std::cout << "PASS " << file.string() << ' ' << name << ' ' << where << '\n';
                }
            }
        }
    }

    /// Returns the failure reason, or nullopt when the entry passes.
    std::optional<std::string> run_entry(const pel::state::MemState& pre,
                                         const pel::exec::BlockEnv& env, const json& entry) {
        const Hash32 want_root = parse_hash(entry.at("hash"));
        const Hash32 want_logs = parse_hash(entry.at("logs"));
        const std::optional<std::string> want_exception =
            entry.contains("expectException")
                ? std::optional<std::string>(as_text(entry.at("expectException")))
                : std::nullopt;

        pel::state::MemState st = pre;
        std::optional<std::string> rejection;
        std::vector<pel::exec::Log> logs;

        const Bytes txbytes = parse_bytes(entry.at("txbytes"));
        auto txn = pel::decode_transaction(txbytes);
        if (!txn) {
            rejection = "decode: " + txn.error().message;
        } else if (auto sender = pel::recover_sender(*txn); !sender) {
            rejection = "sender: " + sender.error().message;
        } else {
            const pel::Address from = *sender;
            pel::Result<pel::exec::BlockResult, pel::exec::BlockError> r =
                pel::unexpected(pel::exec::BlockError{});
            if (parallel_) {
                pel::exec::MemStateConcurrentReader base(pre);
                auto p = parallel_->execute(env, {&*txn, 1}, {&from, 1}, base);
                if (p) {
                    pel::exec::apply_writes(st, p->diff);
                    r = pel::exec::BlockResult{std::move(p->receipts), p->gas_used,
                                               p->blob_gas_used};
                } else {
                    r = pel::unexpected(p.error());
                }
            } else {
                r = pel::exec::execute_block_sequential(st, vm_, env, {&*txn, 1}, {&from, 1},
                                                        opts_.trace ? &tracer_ : nullptr);
            }
            if (!r) {
                rejection = std::string(pel::exec::to_string(r.error().error));
            } else {
                if (opts_.trace) {
                    const pel::exec::Receipt& rc = r->receipts.front();
                    std::cout << "  receipt: " << (rc.success ? "success" : "failure")
                              << " gas_used=" << rc.gas_used << " logs=" << rc.logs.size() << '\n';
                }
                logs = std::move(r->receipts.front().logs);
            }
        }
        if (opts_.trace) {
            if (rejection) {
                std::cout << "  rejected: " << *rejection << '\n';
            }
            print_state(st);
        }

        if (want_exception && !rejection) {
            return "expected exception " + *want_exception + ", but the transaction was accepted";
        }
        if (!want_exception && rejection) {
            return "unexpected exception: " + *rejection;
        }
        const Hash32 got_root = st.state_root();
        std::string reason;
        if (got_root != want_root) {
            reason = "root mismatch: expected " + want_root.to_hex() + ", got " + got_root.to_hex();
        }
        const Hash32 got_logs = pel::exec::logs_hash(logs);
        if (got_logs != want_logs) {
            if (!reason.empty()) {
                reason += "; ";
            }
            reason +=
                "logs mismatch: expected " + want_logs.to_hex() + ", got " + got_logs.to_hex();
        }
        if (!reason.empty()) {
            return reason;
        }
        return std::nullopt;
    }

    void fail(const fs::path& file, const std::string& name, const std::string& where,
              const std::string& reason) {
        ++counts_.failed;
        std::cout << "FAIL " << file.string() << ' ' << name;
        if (!where.empty()) {
            std::cout << ' ' << where;
        }
        std::cout << ": " << reason << '\n';
    }

    static void print_state(const pel::state::MemState& st) {
        std::vector<Address> addrs;
        for (const auto& [addr, acc] : st.accounts()) {
            addrs.push_back(addr);
        }
        std::sort(addrs.begin(), addrs.end());
        std::cout << "  post state (root " << st.state_root().to_hex() << "):\n";
        for (const Address& a : addrs) {
            const pel::state::MemAccount& acc = *st.find(a);
            std::cout << "    " << a.to_hex() << " nonce=" << acc.nonce
                      << " balance=" << acc.balance.to_string() << " code=" << acc.code.size()
                      << "B\n";
            std::vector<std::pair<U256, U256>> slots(acc.storage.begin(), acc.storage.end());
            std::sort(slots.begin(), slots.end());
            for (const auto& [k, v] : slots) {
                std::cout << "      [" << k.to_hex() << "] = " << v.to_hex() << '\n';
            }
        }
    }

    /// Prints call frames, indented by depth.
    class Tracer final : public pel::exec::FrameTracer {
      public:
        void on_enter(const pel::vm::Message& msg) noexcept override {
            indent(msg.depth);
            std::cout << kind_name(msg) << ' ' << msg.sender.to_hex() << " -> "
                      << msg.recipient.to_hex();
            if (msg.code_address != msg.recipient) {
                std::cout << " code " << msg.code_address.to_hex();
            }
            std::cout << " gas=" << msg.gas << " value=" << msg.value.to_string()
                      << " input=" << short_hex(msg.input) << '\n';
        }
        void on_exit(const pel::vm::Message& msg, const pel::vm::ExecResult& r) noexcept override {
            indent(msg.depth);
            std::cout << "=> status=" << static_cast<int>(r.status) << " gas_left=" << r.gas_left
                      << " refund=" << r.gas_refund << " output=" << short_hex(r.output) << '\n';
        }

      private:
        static void indent(int32_t depth) {
            std::cout << "  " << std::string(static_cast<size_t>(std::min(depth, 64)) * 2, ' ');
        }
        static const char* kind_name(const pel::vm::Message& msg) {
            switch (msg.kind) {
                case pel::vm::CallKind::kCall:
                    return msg.is_static ? "STATICCALL" : "CALL";
                case pel::vm::CallKind::kDelegateCall:
                    return "DELEGATECALL";
                case pel::vm::CallKind::kCallCode:
                    return "CALLCODE";
                case pel::vm::CallKind::kCreate:
                    return "CREATE";
                case pel::vm::CallKind::kCreate2:
                    return "CREATE2";
            }
            return "?";
        }
        static std::string short_hex(pel::ByteView v) {
            constexpr size_t kMax = 64;
            std::string h = pel::to_hex(v.first(std::min(v.size(), kMax)));
            if (v.size() > kMax) {
                h += "...(" + std::to_string(v.size()) + "B)";
            }
            return h;
        }
    };

    const Options& opts_;
    std::unique_ptr<pel::exec::ParallelExecutor> parallel_;
    Counts counts_;
    Tracer tracer_;
    pel::vm::Vm vm_;
    pel::exec::StateTestBlockHashes block_hashes_;
};

std::vector<fs::path> collect(const std::string& path) {
    std::vector<fs::path> files;
    const fs::path p(path);
    if (fs::is_regular_file(p)) {
        files.push_back(p);
        return files;
    }
    for (const auto& e : fs::recursive_directory_iterator(p)) {
        if (e.is_regular_file() && e.path().extension() == ".json") {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

int usage() {
    std::cerr << "usage: pel-statetest [--verbose] [--filter SUBSTR] [--trace] [--parallel N] "
                 "PATH...\n"
                 "  PATH: a state-test fixture file or a folder searched recursively for *.json\n"
                 "  --filter SUBSTR: only cases whose \"<file> <test> [d=.. g=.. v=..]\" label\n"
                 "                   contains SUBSTR\n"
                 "  --trace: print call frames and the post state of each case run\n"
                 "  --parallel N: run each case through the Block-STM executor on N threads\n"
                 "  --verbose: print PASS/SKIP lines too\n";
    return 2;
}

/// The runner proper; main() calls it on a thread with a large stack.
int run_main(int argc, char** argv) {
    Options opts;
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        if (a == "--verbose" || a == "-v") {
            opts.verbose = true;
        } else if (a == "--trace") {
            opts.trace = true;
        } else if (a == "--parallel") {
            if (i + 1 >= args.size()) {
                return usage();
            }
            const std::string n(args[++i]);
            const unsigned long threads = std::strtoul(n.c_str(), nullptr, 10);
            if (threads == 0 || threads > 1024) {
                return usage();
            }
            opts.parallel_threads = threads;
        } else if (a == "--filter") {
            if (i + 1 >= args.size()) {
                return usage();
            }
            opts.filter = std::string(args[++i]);
        } else if (a == "--help" || a == "-h") {
            usage();
            return 0;
        } else if (a.starts_with("-")) {
            std::cerr << "unknown option " << a << '\n';
            return usage();
        } else {
            opts.paths.emplace_back(a);
        }
    }
    if (opts.paths.empty()) {
        return usage();
    }

    Runner runner(opts);
    bool missing = false;
    for (const std::string& path : opts.paths) {
        std::error_code ec;
        if (!fs::exists(path, ec)) {
            std::cout << "FAIL " << path << ": no such file or folder (is PEL_FIXTURES_DIR set to "
                      << "the state-test fixtures?)\n";
            missing = true;
            continue;
        }
        for (const fs::path& f : collect(path)) {
            runner.run_file(f);
        }
    }
    const Counts& c = runner.counts();
    const uint64_t failed = c.failed + (missing ? 1 : 0);
    std::cout << c.passed << " passed, " << failed << " failed, " << c.skipped << " skipped\n";
    return failed != 0 ? 1 : 0;
}

/// run_main with a last-resort handler (e.g. a folder that cannot be listed).
int guarded_run_main(int argc, char** argv) noexcept {
    try {
        return run_main(argc, argv);
    } catch (const std::exception& e) {
        std::cout << "error: " << e.what() << '\n';
    } catch (...) {
        std::cout << "error: unknown exception\n";
    }
    return 2;
}

struct MainArgs {
    int argc;
    char** argv;
    int rc;
};

void* main_thread(void* p) {
    auto* a = static_cast<MainArgs*>(p);
    a->rc = guarded_run_main(a->argc, a->argv);
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    // 1024 nested call frames (the EVM's depth limit) recurse through Host::call and
    // Vm::execute; sanitizer builds need far more than the default 8 MiB of stack for that.
    constexpr size_t kStackSize = size_t{1} << 30;
    MainArgs args{argc, argv, 1};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_t thread{};
    if (pthread_attr_setstacksize(&attr, kStackSize) != 0 ||
        pthread_create(&thread, &attr, main_thread, &args) != 0) {
        pthread_attr_destroy(&attr);
        return guarded_run_main(argc, argv);
    }
    pthread_attr_destroy(&attr);
    pthread_join(thread, nullptr);
    return args.rc;
}
