/*
 * The YAML loaders, one per target (FUZZ_LOADER): the catalogue, a year of
 * the calendar, the service configuration. Each must load the input or
 * refuse it with a message naming the file.
 */
#include "fuzz.h"

#include "base/yamltree.h"
#include "law/calendar.h"
#include "law/catalogue.h"
#include "service/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_tmp();
    return 0;
}

static void named(const cw_err *err, const char *path)
{
    if (strstr(err->msg, path) == NULL && strstr(err->msg, "input.yaml") == NULL) {
        fprintf(stderr, "fuzz: a refusal that does not name the file: %s\n", err->msg);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_put("input.yaml", data, size);
    cw_err err = { 0 };

#if FUZZ_LOADER == 1
    cw_strtab *names = cw_strtab_new();
    cw_catalogue *cat;
    if (cw_catalogue_load(&cat, path, names, &err) == 0)
        cw_catalogue_free(cat);
    else
        named(&err, path);
    cw_strtab_free(names);
#elif FUZZ_LOADER == 2
    cw_calendar *cal;
    if (cw_calendar_new(&cal, 480, &err) < 0)
        abort();
    if (cw_calendar_load_file(cal, path, &err) < 0)
        named(&err, path);
    cw_calendar_free(cal);
#elif FUZZ_LOADER == 3
    cw_config *c;
    if (cw_config_load(&c, path, &err) == 0)
        cw_config_free(c);
    else
        named(&err, path);
#else
#error "FUZZ_LOADER: 1 catalogue, 2 calendar, 3 service configuration"
#endif
    free(path);
    return 0;
}
