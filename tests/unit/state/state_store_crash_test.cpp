// SPDX-License-Identifier: Apache-2.0
// Crash safety: a child process commits deterministic blocks in a loop with synced writes and is
// killed with SIGKILL at random moments, 60 times. After every kill the reopened store must be at
// a block the child committed (never in between), no block whose commit() returned may be lost,
// and the root must equal the MemState root recorded for that block.
//
// The child is this test binary re-executed (fork + execve of /proc/self/exe) running only
// StateStoreCrash.tool_child_process, so that it starts with no oneTBB or LevelDB threads inherited
// from the parent.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <random>
#include <signal.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "state/mem_state.hpp"
#include "state/state_view.hpp"
#include "tests/unit/state/state_gen.hpp"

extern char** environ;  // NOLINT

namespace pel::state {
namespace {

constexpr const char* kDirEnv = "PEL_STATE_CRASH_DIR";
constexpr const char* kFdEnv = "PEL_STATE_CRASH_FD";
constexpr uint64_t kSeed = 77;
constexpr int kRounds = 60;

storetest::GenParams crash_params() {
    storetest::GenParams p;
    p.accounts = 64;
    p.slots = 16;
    p.max_changes = 8;
    return p;
}

StateStoreOptions crash_options() {
    StateStoreOptions o;
    o.sync = true;
    o.cache_bytes = size_t{1} << 20;
    o.leveldb_block_cache_bytes = size_t{4} << 20;
    o.leveldb_write_buffer_bytes = size_t{256} << 10;  // flushes and compactions get killed too
    return o;
}

// The child: commit blocks forever, reporting each block number once commit() has returned.
TEST(StateStoreCrash, tool_child_process) {
    const char* dir = std::getenv(kDirEnv);
    const char* fd_text = std::getenv(kFdEnv);
    if (dir == nullptr || fd_text == nullptr) GTEST_SKIP() << "only runs as the crash test's child";
    const int fd = std::atoi(fd_text);
    auto store = StateStore::open(dir, crash_options());
    if (!store) _exit(2);
    const auto head = (*store)->head().block_num;
    uint64_t n = head ? *head + 1 : 0;
    for (;;) {
        if (!(*store)->commit(n, storetest::make_block(kSeed, n, crash_params()))) _exit(3);
        if (::write(fd, &n, sizeof n) != static_cast<ssize_t>(sizeof n)) _exit(4);
        ++n;
    }
}

TEST(StateStoreCrash, sigkill_at_random_moments_loses_nothing) {
    storetest::TempDir dir;
    const std::string path = dir.sub("db");
    MemState ms;
    std::vector<Hash32> roots;  // roots[n]: the state root after block n
    auto root_at = [&](uint64_t n) {
        while (roots.size() <= n) {
            storetest::apply(ms, storetest::make_block(kSeed, roots.size(), crash_params()));
            roots.push_back(ms.state_root());
        }
        return roots[n];
    };

    std::mt19937_64 rng(2024);
    int kills = 0;
    int kills_after_progress = 0;
    std::optional<uint64_t> last_head;
    for (int round = 0; round < kRounds; ++round) {
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        // Everything the child needs is prepared before fork (only async-signal-safe calls after).
        std::vector<std::string> env_store;
        for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
        env_store.push_back(std::string(kDirEnv) + "=" + path);
        env_store.push_back(std::string(kFdEnv) + "=" + std::to_string(fds[1]));
        std::vector<char*> envp;
        for (auto& s : env_store) envp.push_back(s.data());
        envp.push_back(nullptr);
        std::string exe = "/proc/self/exe";
        std::string filter = "--gtest_filter=StateStoreCrash.tool_child_process";
        std::vector<char*> argv{exe.data(), filter.data(), nullptr};
        const int devnull = ::open("/dev/null", O_WRONLY);
        ASSERT_GE(devnull, 0);

        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(fds[0]);
            ::dup2(devnull, 1);
            ::dup2(devnull, 2);
            ::execve(exe.c_str(), argv.data(), envp.data());
            _exit(127);
        }
        ::close(devnull);
        ::close(fds[1]);
        // Most rounds wait for the child's first commit (startup time varies a lot, e.g. under
        // sanitizers), then kill it a random moment later; one in six kills it at a random moment
        // of its startup and recovery instead.
        std::optional<uint64_t> reported;
        uint64_t n = 0;
        if (round % 6 != 5) {
            pollfd pfd{fds[0], POLLIN, 0};
            ASSERT_EQ(::poll(&pfd, 1, 60'000), 1) << "child made no progress in round " << round;
            ASSERT_EQ(::read(fds[0], &n, sizeof n), static_cast<ssize_t>(sizeof n));
            reported = n;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 120));
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            << "child ended by itself (exit " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1)
            << ") in round " << round;
        ++kills;
        while (::read(fds[0], &n, sizeof n) == static_cast<ssize_t>(sizeof n)) reported = n;
        ::close(fds[0]);

        auto store = StateStore::open(path, crash_options());
        ASSERT_TRUE(store.has_value()) << "round " << round << ": " << store.error().message;
        const StateHead head = (*store)->head();
        if (reported) {
            ++kills_after_progress;
            ASSERT_TRUE(head.block_num.has_value());
            // Nothing committed is lost; at most the block in flight landed too.
            ASSERT_GE(*head.block_num, *reported) << "round " << round;
            ASSERT_LE(*head.block_num, *reported + 1) << "round " << round;
        }
        if (last_head) {
            ASSERT_GE(head.block_num.value_or(0), *last_head);
        }
        if (head.block_num) {
            ASSERT_EQ(head.state_root, root_at(*head.block_num)) << "round " << round;
            // The flat state agrees with the root: one account read back through a view.
            const auto view = (*store)->view();
            ASSERT_TRUE(view->account(storetest::pool_address(0)).has_value());
        } else {
            ASSERT_EQ(head.state_root, kEmptyTrieRoot);
        }
        last_head = head.block_num;
    }
    EXPECT_GE(kills, 50);
    EXPECT_GE(kills_after_progress, 40);
    ASSERT_TRUE(last_head.has_value());
    std::cout << "[ crash    ] " << kills << " SIGKILLs, " << kills_after_progress
              << " after the child had committed; store reached block " << *last_head << "\n";
}

}  // namespace
}  // namespace pel::state
