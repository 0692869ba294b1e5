#ifndef ANSWER_H
#define ANSWER_H

#define ANSWER_VERSION "1.0.0"

/* The answer. */
int answer(void);

/* The version of the library that is loaded, for callers to check at run time. */
const char *answer_version(void);

#endif
