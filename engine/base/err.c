#include "base/err.h"

#include <stdio.h>
#include <string.h>

const char *cw_strerror(int code)
{
    switch (code) {
    case CW_OK:
        return "success";
#define X(name, val, text) case CW_##name: return text;
    CW_ERRNO_MAP(X)
#undef X
    }
    return "unknown error";
}

int cw_err_set(cw_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int cw_err_prefix(cw_err *err, const char *fmt, ...)
{
    char prefix[160], old[sizeof err->msg];
    va_list ap;

    if (err == NULL)
        return CW_EINVAL;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    return err->code;
}

void cw_err_clear(cw_err *err)
{
    if (err != NULL) {
        err->code = CW_OK;
        err->msg[0] = '\0';
    }
}
