// SPDX-License-Identifier: Apache-2.0
// ThreadSanitizer defaults for pel_state_store_test. Debian's libleveldb is not instrumented: its
// memtable publishes entries through atomics TSan cannot see, so the memcpy/memcmp interceptors it
// calls look like races. Only interceptor calls made from inside libleveldb are suppressed; our
// own code (and our calls into LevelDB) stays checked.
#if defined(__SANITIZE_THREAD__)
#define PEL_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PEL_TEST_TSAN 1
#endif
#endif

#if defined(PEL_TEST_TSAN)
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming)
extern "C" const char* __tsan_default_suppressions() { return "called_from_lib:libleveldb.so\n"; }
#endif
