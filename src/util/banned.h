/*
 * banned.h: functions we never call. Included last by common.h, after every system
 * header, so a use of one of these in our code is a compile error that names the
 * reason (git's banned.h). Use fo_buf, snprintf and strtol-based parsers instead.
 */
#ifndef FO_BANNED_H
#define FO_BANNED_H

#define FO_BANNED(func) sorry_##func##_is_banned_see_src_util_banned_h

#undef strcpy
#define strcpy(x, y) FO_BANNED(strcpy)
#undef strcat
#define strcat(x, y) FO_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) FO_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) FO_BANNED(strncat)
#undef sprintf
#define sprintf(...) FO_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) FO_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) FO_BANNED(strtok)
#undef atoi
#define atoi(x) FO_BANNED(atoi)
#undef atol
#define atol(x) FO_BANNED(atol)
#undef gets
#define gets(x) FO_BANNED(gets)

#endif
