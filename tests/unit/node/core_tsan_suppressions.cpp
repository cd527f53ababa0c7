// SPDX-License-Identifier: Apache-2.0
// ThreadSanitizer defaults for pel_node_core_test, as tests/unit/state/tsan_suppressions.cpp:
// Debian's libleveldb is not instrumented, so its internal synchronisation is invisible to TSan
// and LevelDB reads concurrent with a commit (the node's get_aux lookups while a block commits)
// look like races. Only stacks through the KvStore's LevelDB boundary or a libleveldb frame are
// suppressed; the node's own structures (head, pool, caches, subscriptions) stay checked.
#if defined(__SANITIZE_THREAD__)
#define PEL_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PEL_TEST_TSAN 1
#endif
#endif

#if defined(PEL_TEST_TSAN)
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming)
extern "C" const char* __tsan_default_suppressions() {
    return "race:state/leveldb_store.cpp\n"
           "race:libleveldb.so\n"
           "mutex:state/leveldb_store.cpp\n";
}
#endif
