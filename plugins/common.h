/*
 * Small helpers the bundled plugins share. Plugins link nothing from the
 * host, so these are compiled into each (static); include after <stdio.h>,
 * <stdarg.h>, <string.h> and casewarden/plugin.h.
 */
#ifndef CW_PLUGINS_COMMON_H
#define CW_PLUGINS_COMMON_H

/* Write "line N: what" (N > 0) or "what" to err, for configure; returns
 * -1, the value configure returns on a bad parameter. */
static int fail(char *err, size_t len, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t len, int line, const char *fmt, ...)
{
    va_list ap;
    int o = 0;

    if (line > 0)
        o = snprintf(err, len, "line %d: ", line);
    va_start(ap, fmt);
    vsnprintf(err + o, len - (size_t)o, fmt, ap);
    va_end(ap);
    return -1;
}

/* Whether key is one of keys (NULL-terminated); if not, the keys are
 * listed in list ("a, b, c") for the message. */
static bool key_known(const char *key, const char *const *keys, char *list, size_t size)
{
    size_t o = 0;
    int k;

    for (k = 0; keys[k]; k++)
        if (strcmp(key, keys[k]) == 0)
            return true;
    list[0] = '\0';
    for (k = 0; keys[k] && o < size; k++)
        o += (size_t)snprintf(list + o, size - o, "%s%s", k ? ", " : "", keys[k]);
    return false;
}

#endif
