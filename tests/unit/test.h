/* Minimal unit-test harness: each test file defines tests with TEST(name),
 * lists them in main with RUN(name), and ends with TEST_SUMMARY(), which
 * prints "N passed, N failed" and returns non-zero on any failure. */
#ifndef VC_TEST_H
#define VC_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_checks;
static int tests_passed, tests_failed;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__,  \
              #cond);                                                      \
      test_failed_checks++;                                                \
    }                                                                      \
  } while (0)

#define CHECK_STR(a, b)                                                    \
  do {                                                                     \
    const char *a_ = (a), *b_ = (b);                                       \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                 \
      fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__,   \
              a_ ? a_ : "(null)", b_ ? b_ : "(null)");                     \
      test_failed_checks++;                                                \
    }                                                                      \
  } while (0)

/* got equals want, or both are NULL. */
#define CHECK_STR_OR_NULL(got, want)                                       \
  do {                                                                     \
    const char *want_ = (want);                                            \
    if (want_ == NULL)                                                     \
      CHECK((got) == NULL);                                                \
    else                                                                   \
      CHECK_STR(got, want_);                                               \
  } while (0)

#define TEST(name) static void name(void)

#define RUN(name)                                                          \
  do {                                                                     \
    int before_ = test_failed_checks;                                      \
    name();                                                                \
    if (test_failed_checks == before_) {                                   \
      tests_passed++;                                                      \
    } else {                                                               \
      tests_failed++;                                                      \
      fprintf(stderr, "FAIL %s\n", #name);                                 \
    }                                                                      \
  } while (0)

#define TEST_SUMMARY()                                                     \
  (printf("%s: %d passed, %d failed\n", __FILE__, tests_passed,            \
          tests_failed),                                                   \
   tests_failed != 0)

#endif
