// SPDX-License-Identifier: Apache-2.0
// JSON-RPC request parsing: a batch of 100 eth_sendRawTransaction calls (what an ethers v6
// JsonRpcProvider sends at most per request), each carrying a signed ERC-20 transfer of 185
// bytes, parsed by nlohmann::json::parse and by node::rpc::parse_json (simdjson scanning).
#include <string>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "node/json_parse.hpp"

namespace {

std::string batch_body(size_t calls) {
    std::string raw = "0x02f8b5";  // an EIP-1559 envelope; the digits only need the right length
    while (raw.size() < 2 + 2 * 185) {
        raw += "0123456789abcdef"[raw.size() % 16];
    }
    std::string body = "[";
    for (size_t i = 0; i < calls; ++i) {
        body += (i == 0 ? "" : ",");
        body += R"({"jsonrpc":"2.0","id":)" + std::to_string(i) +
                R"(,"method":"eth_sendRawTransaction","params":[")" + raw + "\"]}";
    }
    return body + "]";
}

void BM_Json_parse_batch100_nlohmann(benchmark::State& state) {
    const std::string body = batch_body(100);
    for (auto _ : state) {
        auto v = nlohmann::json::parse(body, nullptr, false);
        benchmark::DoNotOptimize(v);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_Json_parse_batch100_nlohmann);

void BM_Json_parse_batch100_parse_json(benchmark::State& state) {
    const std::string body = batch_body(100);
    for (auto _ : state) {
        auto v = pel::node::rpc::parse_json(body);
        benchmark::DoNotOptimize(v);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_Json_parse_batch100_parse_json);

}  // namespace

BENCHMARK_MAIN();
