/*
 * common.h: the first include of every .c file in fallout. Brings in the standard
 * headers nearly every file needs, then banned.h, so banned functions fail to compile
 * in our code while system headers are left alone.
 */
#ifndef FO_COMMON_H
#define FO_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FO_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FO_UNUSED(x) ((void)(x))
#define FO_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#include "util/banned.h"

#endif
