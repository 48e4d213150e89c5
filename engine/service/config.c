#include "service/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "base/yamltree.h"

cw_config *cw_config_defaults(void)
{
    cw_config *c = cw_xcalloc(1, sizeof *c);

    c->db.user = cw_xstrdup("root");
    c->db.name = cw_xstrdup("casewarden");
    c->db.host = cw_xstrdup("localhost");
    c->db.port = 3306;
    c->rules = cw_xstrdup("rules");
    c->poll_ms = 50;
    c->batch = 2000;
    c->snapshot_s = 300;
    c->max_lag = 100000;
    c->engine_name = cw_xstrdup("main");
    c->renew_ms = 1000;
    {
        static const char *const cross[] = { "OFFICER-OVERLAP", "SANCTION-PEER", "ALARM-ACCEPT" };
        c->ncross = sizeof cross / sizeof *cross;
        c->cross = cw_xcalloc(c->ncross, sizeof *c->cross);
        for (size_t i = 0; i < c->ncross; i++)
            c->cross[i] = cw_xstrdup(cross[i]);
    }
    c->listen_host = cw_xstrdup("127.0.0.1");
    c->listen_port = 8080;
    c->max_body = 4u << 20;
    c->max_batch = 1000;
    c->threads = 4;
    c->connection_limit = 256;
    c->timeout_s = 30;
    c->header_timeout_s = 10;
    c->page_max = 500;
    c->max_streams = 32;
    c->stream_max_s = 300;
    c->log_level = CW_LOG_INFO;
    return c;
}

void cw_config_free(cw_config *c)
{
    if (c == NULL)
        return;
    free(c->path);
    free(c->db.socket);
    free(c->db.host);
    cw_db_nodes_free(&c->db);
    free(c->db.user);
    if (c->db.password)
        memset(c->db.password, 0, strlen(c->db.password));
    free(c->db.password);
    free(c->db.name);
    free(c->rules);
    free(c->plugins);
    free(c->engine_name);
    for (size_t i = 0; i < c->ncross; i++)
        free(c->cross[i]);
    free(c->cross);
    free(c->listen_host);
    free(c->console);
    for (size_t i = 0; i < c->ntokens; i++) {
        free(c->tokens[i].name);
        free(c->tokens[i].unit);
    }
    free(c->tokens);
    free(c);
}

int cw_sha256_hex(const char *hex, uint8_t out[32])
{
    if (strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = hex[2 * i + k];
            v <<= 4;
            if (ch >= '0' && ch <= '9')
                v |= (unsigned)(ch - '0');
            else if (ch >= 'a' && ch <= 'f')
                v |= (unsigned)(ch - 'a' + 10);
            else if (ch >= 'A' && ch <= 'F')
                v |= (unsigned)(ch - 'A' + 10);
            else
                return -1;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

typedef struct rd {
    const cw_ydoc *d;
    cw_err *err;
    int rc;
} rd;

static void bad(rd *r, const cw_ynode *n, const char *fmt, const char *a)
{
    char msg[256];

    if (r->rc < 0)
        return;
    snprintf(msg, sizeof msg, fmt, a);
    r->rc = cw_err_set(r->err, CW_ECONFIG, "%s:%d: %s", r->d->path, n ? n->line : 1, msg);
}

static void str(rd *r, const cw_ynode *v, const char *name, char **out)
{
    if (v->type != CW_Y_SCALAR) {
        bad(r, v, "'%s' must be a string", name);
        return;
    }
    free(*out);
    *out = cw_xstrdup(v->text);
}

static void num(rd *r, const cw_ynode *v, const char *name, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long n;

    if (v->type != CW_Y_SCALAR || v->quoted || (n = strtoul(v->text, &end, 10), *end) ||
        n < lo || n > hi) {
        char what[96];
        snprintf(what, sizeof what, "'%s' must be a number from %u to %u", name, lo, hi);
        bad(r, v, "%s", what);
        return;
    }
    *out = (unsigned)n;
}

static bool known(rd *r, const cw_ynode *m, const char *section, const char *const *keys)
{
    for (size_t i = 0; i < cw_ymap_size(m); i++) {
        const cw_ynode *k = cw_ymap_key(m, i);
        int j;
        for (j = 0; keys[j]; j++)
            if (strcmp(k->text, keys[j]) == 0)
                break;
        if (keys[j] == NULL) {
            char what[160];
            snprintf(what, sizeof what, "%s: unknown key '%s'", section, k->text);
            bad(r, k, "%s", what);
            return false;
        }
    }
    return true;
}

static char *rel(const char *cfgpath, const char *p)
{
    const char *slash = strrchr(cfgpath, '/');
    char *dir, *out;

    if (p[0] == '/' || slash == NULL)
        return cw_xstrdup(p);
    dir = cw_xstrndup(cfgpath, (size_t)(slash - cfgpath));
    out = cw_path_join(dir, p);
    free(dir);
    return out;
}

/* database.nodes: a list of sockets (a path: it holds a '/') and
 * host:port (port 3306 when left out), tried in turn. */
static void nodes(rd *r, cw_config *c, const cw_ynode *l)
{
    if (l->type != CW_Y_SEQ || l->n == 0) {
        bad(r, l, "%s", "database: 'nodes' must be a list of sockets or host:port, at least one");
        return;
    }
    c->db.nodes = cw_xcalloc(l->n, sizeof *c->db.nodes);
    for (size_t i = 0; i < l->n && r->rc == 0; i++) {
        const cw_ynode *v = l->kids[i];
        cw_db_node *nd = &c->db.nodes[c->db.nnodes];
        const char *colon;
        char *end;
        unsigned long port = 3306;
        if (v->type != CW_Y_SCALAR || v->len == 0) {
            bad(r, v, "%s", "database.nodes: each node must be a socket path or host:port");
            return;
        }
        c->db.nnodes++;
        if (strchr(v->text, '/') != NULL) {
            nd->socket = rel(c->path, v->text);
            continue;
        }
        colon = strrchr(v->text, ':');
        if (colon != NULL && (port = strtoul(colon + 1, &end, 10), *end || colon[1] == '\0' ||
                              port == 0 || port > 65535)) {
            bad(r, v, "database.nodes: '%s' is not host:port (a port from 1 to 65535)", v->text);
            return;
        }
        if (colon == v->text) {
            bad(r, v, "database.nodes: '%s' has no host", v->text);
            return;
        }
        nd->host = colon ? cw_xstrndup(v->text, (size_t)(colon - v->text)) : cw_xstrdup(v->text);
        nd->port = (unsigned)port;
    }
}

static void database(rd *r, cw_config *c, const cw_ynode *m)
{
    static const char *const keys[] = {
        "socket", "host", "port", "nodes", "user", "password", "password_env", "name", NULL
    };
    const cw_ynode *v;

    if (m->type != CW_Y_MAP) {
        bad(r, m, "%s", "'database' must be a map");
        return;
    }
    if (!known(r, m, "database", keys))
        return;
    if ((v = cw_ymap_get(m, "nodes")) != NULL) {
        const char *other = cw_ymap_get(m, "socket") ? "socket"
                            : cw_ymap_get(m, "host") ? "host"
                            : cw_ymap_get(m, "port") ? "port" : NULL;
        if (other != NULL) {
            bad(r, cw_ymap_get(m, other), "database: '%s' and 'nodes' together (give every node in 'nodes')",
                other);
            return;
        }
        nodes(r, c, v);
    }
    if ((v = cw_ymap_get(m, "socket")) != NULL) {
        char *s = NULL;
        str(r, v, "socket", &s);
        if (s) {
            c->db.socket = rel(c->path, s);
            free(s);
        }
    }
    if ((v = cw_ymap_get(m, "host")) != NULL)
        str(r, v, "host", &c->db.host);
    if ((v = cw_ymap_get(m, "port")) != NULL)
        num(r, v, "port", 1, 65535, &c->db.port);
    if ((v = cw_ymap_get(m, "user")) != NULL)
        str(r, v, "user", &c->db.user);
    if ((v = cw_ymap_get(m, "name")) != NULL)
        str(r, v, "name", &c->db.name);
    if ((v = cw_ymap_get(m, "password")) != NULL)
        str(r, v, "password", &c->db.password);
    if ((v = cw_ymap_get(m, "password_env")) != NULL) {
        const char *e = v->type == CW_Y_SCALAR ? getenv(v->text) : NULL;
        if (e == NULL)
            bad(r, v, "password_env: the environment variable %s is not set",
                v->type == CW_Y_SCALAR ? v->text : "?");
        else {
            free(c->db.password);
            c->db.password = cw_xstrdup(e);
        }
    }
}

static const struct {
    const char *name;
    cw_role role;
} roles[] = {
    { "ingest", CW_ROLE_INGEST }, { "inspector", CW_ROLE_INSPECTOR }, { "admin", CW_ROLE_ADMIN },
    { "reviewer", CW_ROLE_REVIEWER }, { "handler", CW_ROLE_HANDLER },
};

const char *cw_role_name(cw_role role)
{
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
        if (roles[i].role == role)
            return roles[i].name;
    return "?";
}

static bool role_of(const char *name, cw_role *out)
{
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
        if (strcmp(roles[i].name, name) == 0) {
            *out = roles[i].role;
            return true;
        }
    return false;
}

static void tokens(rd *r, cw_config *c, const cw_ynode *l)
{
    static const char *const keys[] = { "name", "role", "unit", "sha256", NULL };

    if (l->type != CW_Y_SEQ) {
        bad(r, l, "%s", "'tokens' must be a list of {name, role, unit, sha256}");
        return;
    }
    c->tokens = cw_xcalloc(l->n + 1, sizeof *c->tokens);
    for (size_t i = 0; i < l->n && r->rc == 0; i++) {
        const cw_ynode *t = l->kids[i], *v;
        cw_token *tk = &c->tokens[c->ntokens];
        if (t->type != CW_Y_MAP || !known(r, t, "token", keys)) {
            bad(r, t, "%s", "a token is a map {name, role, unit, sha256}");
            return;
        }
        if ((v = cw_ymap_get(t, "name")) == NULL || v->type != CW_Y_SCALAR) {
            bad(r, t, "%s", "token: 'name' is required");
            return;
        }
        tk->name = cw_xstrdup(v->text);
        if ((v = cw_ymap_get(t, "role")) == NULL || v->type != CW_Y_SCALAR) {
            bad(r, t, "token %s: 'role' is required (ingest, inspector, reviewer, admin or handler)",
                tk->name);
            c->ntokens++;
            return;
        }
        if (!role_of(v->text, &tk->role)) {
            bad(r, v, "token role '%s' is not ingest, inspector, reviewer, admin or handler", v->text);
            c->ntokens++;
            return;
        }
        v = cw_ymap_get(t, "unit");
        tk->unit = cw_xstrdup(v && v->type == CW_Y_SCALAR ? v->text : "");
        if (strspn(tk->unit, "0123456789") != strlen(tk->unit) || strlen(tk->unit) > 12) {
            bad(r, v, "token unit '%s' is not a unit prefix (digits)", tk->unit);
            c->ntokens++;
            return;
        }
        if ((tk->role & CW_ROLE_SCOPED) && tk->unit[0] == '\0' && v == NULL) {
            bad(r, t, "token %s: an inspector or reviewer needs a 'unit' prefix (\"\" for every unit)",
                tk->name);
            c->ntokens++;
            return;
        }
        if ((v = cw_ymap_get(t, "sha256")) == NULL || v->type != CW_Y_SCALAR ||
            cw_sha256_hex(v->text, tk->sha256) < 0) {
            bad(r, v ? v : t, "token %s: 'sha256' must be the 64 hex digits of the token's "
                "SHA-256 (scripts/token.sh makes one)", tk->name);
            c->ntokens++;
            return;
        }
        c->ntokens++;
    }
}

/* cluster: {lease_ms, renew_ms, cross_case: [RULE, ...]} */
static void cluster(rd *r, cw_config *c, const cw_ynode *v)
{
    const cw_ynode *x;

    c->lease_ms = 3000;
    if ((x = cw_ymap_get(v, "lease_ms")) != NULL)
        num(r, x, "cluster.lease_ms", 500, 600000, &c->lease_ms);
    if ((x = cw_ymap_get(v, "renew_ms")) != NULL)
        num(r, x, "cluster.renew_ms", 50, 600000, &c->renew_ms);
    if (r->rc == 0 && c->renew_ms * 2 > c->lease_ms)
        bad(r, x ? x : v, "%s", "cluster.renew_ms must be at most half of cluster.lease_ms, so a lease "
            "is renewed twice before it expires");
    if ((x = cw_ymap_get(v, "cross_case")) != NULL) {
        if (x->type != CW_Y_SEQ) {
            bad(r, x, "%s", "cluster.cross_case must be a list of rule ids");
            return;
        }
        for (size_t i = 0; i < c->ncross; i++)
            free(c->cross[i]);
        free(c->cross);
        c->cross = cw_xcalloc(x->n + 1, sizeof *c->cross);
        c->ncross = 0;
        c->cross_set = true;
        for (size_t i = 0; i < x->n; i++) {
            if (x->kids[i]->type != CW_Y_SCALAR) {
                bad(r, x->kids[i], "%s", "cluster.cross_case: expected a rule id");
                return;
            }
            c->cross[c->ncross++] = cw_xstrdup(x->kids[i]->text);
        }
    }
}

int cw_config_load(cw_config **out, const char *path, cw_err *err)
{
    static const char *const top[] = {
        "database", "rules", "plugins", "listen", "engine", "api", "tokens", "log", "cluster", NULL
    };
    static const char *const clu[] = { "lease_ms", "renew_ms", "cross_case", NULL };
    static const char *const eng[] = { "poll_ms", "batch", "snapshot_s", "max_lag", "name",
                                       "gap_timeout_s", "tick_ms", NULL };
    static const char *const api[] = {
        "max_body_bytes", "max_batch", "threads", "connection_limit", "timeout_s", "page_max",
        "header_timeout_s", "max_streams", "stream_max_s", "console", NULL
    };
    cw_config *c = cw_config_defaults();
    const cw_ynode *root, *v;
    cw_ydoc *d;
    rd r = { NULL, err, 0 };

    *out = NULL;
    if (cw_ydoc_load(&d, path, err) < 0) {
        cw_config_free(c);
        return CW_ECONFIG;
    }
    r.d = d;
    c->path = cw_xstrdup(path);
    root = d->root;
    if (root == NULL || root->type != CW_Y_MAP) {
        bad(&r, root, "%s", "expected a map of settings");
        goto out;
    }
    if (!known(&r, root, "config", top))
        goto out;
    if ((v = cw_ymap_get(root, "database")) != NULL)
        database(&r, c, v);
    if ((v = cw_ymap_get(root, "rules")) != NULL && v->type == CW_Y_SCALAR) {
        free(c->rules);
        c->rules = rel(path, v->text);
    } else {
        char *d0 = c->rules;
        c->rules = rel(path, d0);
        free(d0);
    }
    if ((v = cw_ymap_get(root, "plugins")) != NULL && v->type == CW_Y_SCALAR)
        c->plugins = rel(path, v->text);
    if ((v = cw_ymap_get(root, "listen")) != NULL) {
        const char *colon = v->type == CW_Y_SCALAR ? strrchr(v->text, ':') : NULL;
        char *end;
        unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
        if (colon == NULL || *end || port == 0 || port > 65535) {
            bad(&r, v, "%s", "'listen' must be HOST:PORT, e.g. 127.0.0.1:8080");
        } else {
            free(c->listen_host);
            c->listen_host = cw_xstrndup(v->text, (size_t)(colon - v->text));
            c->listen_port = (unsigned)port;
        }
    }
    if ((v = cw_ymap_get(root, "engine")) != NULL && v->type == CW_Y_MAP && known(&r, v, "engine", eng)) {
        const cw_ynode *x;
        if ((x = cw_ymap_get(v, "poll_ms")) != NULL)
            num(&r, x, "engine.poll_ms", 1, 60000, &c->poll_ms);
        if ((x = cw_ymap_get(v, "batch")) != NULL)
            num(&r, x, "engine.batch", 1, 1000000, &c->batch);
        if ((x = cw_ymap_get(v, "snapshot_s")) != NULL)
            num(&r, x, "engine.snapshot_s", 0, 86400, &c->snapshot_s);
        if ((x = cw_ymap_get(v, "max_lag")) != NULL)
            num(&r, x, "engine.max_lag", 1, 1000000000, &c->max_lag);
        /* settings of earlier versions: the log has no holes to wait for,
         * and timers fire at their second */
        for (const char *const *old = (const char *const[]){ "gap_timeout_s", "tick_ms", NULL }; *old;
             old++)
            if (cw_ymap_get(v, *old) != NULL)
                cw_log(CW_LOG_WARN, "%s: engine.%s is no longer used; it is ignored", c->path, *old);
        if ((x = cw_ymap_get(v, "name")) != NULL)
            str(&r, x, "engine.name", &c->engine_name);
    }
    if ((v = cw_ymap_get(root, "cluster")) != NULL && v->type == CW_Y_MAP && known(&r, v, "cluster", clu))
        cluster(&r, c, v);
    if ((v = cw_ymap_get(root, "api")) != NULL && v->type == CW_Y_MAP && known(&r, v, "api", api)) {
        const cw_ynode *x;
        unsigned mb = 0;
        if ((x = cw_ymap_get(v, "max_body_bytes")) != NULL) {
            num(&r, x, "api.max_body_bytes", 1024, 1u << 30, &mb);
            c->max_body = mb;
        }
        if ((x = cw_ymap_get(v, "max_batch")) != NULL)
            num(&r, x, "api.max_batch", 1, 10000, &c->max_batch);
        if ((x = cw_ymap_get(v, "threads")) != NULL)
            num(&r, x, "api.threads", 1, 256, &c->threads);
        if ((x = cw_ymap_get(v, "connection_limit")) != NULL)
            num(&r, x, "api.connection_limit", 1, 100000, &c->connection_limit);
        if ((x = cw_ymap_get(v, "timeout_s")) != NULL)
            num(&r, x, "api.timeout_s", 1, 3600, &c->timeout_s);
        if ((x = cw_ymap_get(v, "header_timeout_s")) != NULL)
            num(&r, x, "api.header_timeout_s", 1, 3600, &c->header_timeout_s);
        if ((x = cw_ymap_get(v, "page_max")) != NULL)
            num(&r, x, "api.page_max", 1, 100000, &c->page_max);
        if ((x = cw_ymap_get(v, "max_streams")) != NULL)
            num(&r, x, "api.max_streams", 0, 10000, &c->max_streams);
        if ((x = cw_ymap_get(v, "stream_max_s")) != NULL)
            num(&r, x, "api.stream_max_s", 1, 86400, &c->stream_max_s);
        if ((x = cw_ymap_get(v, "console")) != NULL) {
            char *d0 = NULL;
            str(&r, x, "api.console", &d0);
            free(c->console);
            c->console = d0 && d0[0] ? rel(path, d0) : NULL;
            free(d0);
        }
    }
    if ((v = cw_ymap_get(root, "tokens")) != NULL)
        tokens(&r, c, v);
    if ((v = cw_ymap_get(root, "log")) != NULL && v->type == CW_Y_MAP) {
        const cw_ynode *lv = cw_ymap_get(v, "level");
        static const char *const levels[] = { "error", "warning", "info", "debug" };
        int i;
        for (i = 0; lv && lv->type == CW_Y_SCALAR && i < 4; i++)
            if (strcmp(lv->text, levels[i]) == 0)
                break;
        if (lv == NULL || i == 4)
            bad(&r, lv ? lv : v, "%s", "log.level must be error, warning, info or debug");
        else
            c->log_level = i;
    }
out:
    cw_ydoc_free(d);
    if (r.rc < 0) {
        cw_config_free(c);
        return r.rc;
    }
    *out = c;
    return 0;
}
