#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <time.h>

static FILE *out;
static int max_level = CW_LOG_WARN;
static int stamp;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const names[] = { "error", "warning", "info", "debug" };

void cw_log_set(FILE *f, int level, int with_time)
{
    out = f;
    max_level = level;
    stamp = with_time;
}

void cw_log(int level, const char *fmt, ...)
{
    FILE *f = out ? out : stderr;
    va_list ap;

    if (level > max_level)
        return;
    pthread_mutex_lock(&lock);
    if (stamp) {
        char buf[32];
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
        fprintf(f, "%s ", buf);
    }
    fprintf(f, "casewarden: %s: ", names[level < 0 ? 0 : level > 3 ? 3 : level]);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
    pthread_mutex_unlock(&lock);
}
