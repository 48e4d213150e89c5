/*
 * The event parser and validator (engine/event/evjson.c) against the
 * shipped catalogue: any bytes either parse into an event whose slices
 * lie in the parser's scratch, or are refused with a field and a message.
 */
#include "fuzz.h"

#include "event/evjson.h"

static cw_strtab *names;
static cw_catalogue *cat;
static cw_evparser *p;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cw_err err;

    (void)argc;
    (void)argv;
    names = cw_strtab_new();
    if (cw_catalogue_load(&cat, CW_SRCDIR "/rules/catalogue.yaml", names, &err) < 0) {
        fprintf(stderr, "fuzz: %s\n", err.msg);
        abort();
    }
    p = cw_evparser_new();
    cw_evparser_set_now(p, 1780272000);     /* 2026-06-01 */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cw_event_error e;
    cw_pevent ev;
    char line[512];
    /* a copy of exactly size bytes: reads past the end are ASan's to see */
    char *copy = malloc(size ? size : 1);
    int rc;

    memcpy(copy, data, size);
    rc = cw_evparse(p, cat, copy, size, &ev, &e);
    if (rc == 0) {
        if (ev.type == NULL || ev.id.len == 0 || strlen(ev.id.p) != ev.id.len || ev.case_id.len == 0)
            abort();
        for (uint32_t i = 0; i < ev.nf; i++)
            if (ev.f[i].key.p == NULL)
                abort();
    } else {
        if (rc != CW_EPARSE && rc != CW_EEVENT)
            abort();
        if (e.msg[0] == '\0')
            abort();          /* every refusal says why */
        cw_event_error_format(&e, line, sizeof line);
    }
    free(copy);
    return 0;
}
