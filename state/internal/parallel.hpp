// SPDX-License-Identifier: Apache-2.0
// parallel_for_index and run_both: the one place state/ fans work out to threads. Private to
// state/.
//
// Normally oneTBB (in the caller's arena, so tbb::global_control limits it). Under
// ThreadSanitizer the bodies run on plain std::threads instead: Debian's oneTBB is not built with
// TSan, so TSan cannot see its internal synchronisation and reports oneTBB's own task objects as
// races, and suppressing those would also hide races in our bodies (they run inside oneTBB frames).
// With std::threads the same bodies still run concurrently on the same partitioning, so races in
// them are still found.
//
// Thread safety: body(i) is called concurrently for distinct i; it must not throw (callers catch).
// run_both's two functions run concurrently: they must not share unsynchronised state.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#if defined(__SANITIZE_THREAD__)
#define PEL_STATE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PEL_STATE_TSAN 1
#endif
#endif

namespace pel::state::internal {

template <class Body>
void parallel_for_index(size_t n, const Body& body) {
#if defined(PEL_STATE_TSAN)
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) body(i);
    };
    std::vector<std::thread> threads;
    const size_t extra = std::min<size_t>(n, 4) - 1;
    for (size_t t = 0; t < extra; ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
#else
    tbb::parallel_for(size_t{0}, n, body);
#endif
}

/// Runs a() and b(), concurrently when a second thread is available (with one thread, in turn).
/// Neither may throw.
template <class A, class B>
void run_both(const A& a, const B& b) {
#if defined(PEL_STATE_TSAN)
    std::thread other([&] { b(); });
    a();
    other.join();
#else
    tbb::parallel_invoke(a, b);
#endif
}

}  // namespace pel::state::internal
