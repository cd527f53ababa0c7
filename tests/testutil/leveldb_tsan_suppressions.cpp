// SPDX-License-Identifier: Apache-2.0
// ThreadSanitizer defaults for test binaries that run LevelDB under concurrency
// (pel_state_store_test, pel_node_core_test: the node's get_aux lookups while a block commits).
// Debian's libleveldb (and the libstdc++ string code it calls) is not instrumented: its memtable,
// block cache and snapshot list synchronise through atomics and locks TSan cannot see, so what
// LevelDB copies inside Get(), Write() and ReleaseSnapshot() looks like races (and its mutex like a
// bad unlock). Uninstrumented frames do not appear in TSan's stacks, so the reports are matched by
// our LevelDB boundary file instead: only stacks that pass through state/leveldb_store.cpp (the
// KvStore calls into LevelDB) or show a libleveldb frame are suppressed. Everything above that
// boundary (the store, the trie, the cache, views, the node's head, pool and subscriptions) stays
// checked.
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
