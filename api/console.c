/*
 * GET /console/...: the inspectors' console, plain files (HTML, CSS, ES
 * modules and the vendored chart library) from a directory: api.console
 * in the configuration, else console/ beside the program (the build
 * tree), else the installed copy. The files are public; every call they
 * make to /v1 carries the token the user logged in with.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_int.h"

static bool has_index(const char *dir)
{
    char *p = cw_path_join(dir, "index.html");
    bool ok = access(p, R_OK) == 0;

    free(p);
    return ok;
}

char *cw_api_console_dir(const cw_config *cfg)
{
    char exe[PATH_MAX];
    ssize_t n;

    if (cfg->console)
        return cw_xstrdup(cfg->console);
    if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
        char *slash, *dir;
        exe[n] = '\0';
        if ((slash = strrchr(exe, '/')) != NULL) {
            *slash = '\0';
            /* libtool's wrapper runs the program from .libs/ */
            if (strlen(exe) > 6 && strcmp(exe + strlen(exe) - 6, "/.libs") == 0)
                exe[strlen(exe) - 6] = '\0';
            dir = cw_path_join(exe, "console");
            if (has_index(dir))
                return dir;
            free(dir);
        }
    }
#ifdef CW_CONSOLEDIR
    if (has_index(CW_CONSOLEDIR))
        return cw_xstrdup(CW_CONSOLEDIR);
#endif
    return NULL;
}

static const char *type_of(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
        { ".svg", "image/svg+xml" }, { ".png", "image/png" }, { ".ico", "image/x-icon" },
        { ".json", "application/json; charset=utf-8" }, { ".txt", "text/plain; charset=utf-8" },
    };
    const char *dot = strrchr(path, '.');

    for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* A path inside the console: letters, digits, '-', '_', '.', '/', with
 * no empty, "." or ".." segment. */
static bool safe(const char *p)
{
    if (strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./") != strlen(p))
        return false;
    return strstr(p, "//") == NULL && strstr(p, "/.") == NULL && p[0] != '.' && p[0] != '/';
}

void cw_api_get_console(req *r, const char *path)
{
    const char *type;
    char *file, *text;
    size_t len;
    struct stat st;

    if (strcmp(r->url, "/console") == 0) {
        r->location = "/console/";
        cw_api_text(r, 302, "text/plain; charset=utf-8", cw_xstrdup("/console/\n"), 10);
        return;
    }
    if (path[0] == '/')
        path++;
    if (path[0] == '\0')
        path = "index.html";
    if (r->a->console == NULL)
        return cw_api_error(r, 404, "not_found", NULL, "the console is not installed with this server");
    if (!safe(path) || (type = type_of(path)) == NULL)
        return cw_api_error(r, 404, "not_found", NULL, "no such file of the console: %s", path);
    file = cw_path_join(r->a->console, path);
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) || cw_read_file(file, &text, &len) < 0) {
        free(file);
        return cw_api_error(r, 404, "not_found", NULL, "no such file of the console: %s", path);
    }
    free(file);
    r->console = true;
    /* the files change with the server: ask each time, use the copy while
     * it is current */
    r->cache = "no-cache";
    cw_api_text(r, 200, type, text, len);
}
