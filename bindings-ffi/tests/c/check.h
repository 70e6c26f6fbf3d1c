/* The test programs' shared check counters and the CHECK macro. */
#ifndef SP_TEST_CHECK_H
#define SP_TEST_CHECK_H

#include <stdio.h>

/* Counted by CHECK; main prints them at the end. */
extern int passed, failed;

#define CHECK(cond, ...)                                               \
    do {                                                               \
        if (cond) {                                                    \
            passed++;                                                  \
        } else {                                                       \
            failed++;                                                  \
            printf("FAIL %s:%d: ", __func__, __LINE__);                \
            printf(__VA_ARGS__);                                       \
            printf("\n");                                              \
        }                                                              \
    } while (0)

#endif
