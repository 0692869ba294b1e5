#include "answer.h"

int answer(void) { return 42; }

const char *answer_version(void) { return ANSWER_VERSION; }
