/*
 * The loaders of a rules directory, through cw_ruleset_load (the shipped
 * catalogue and calendar beside the input), one per target (FUZZ_PART):
 * the Lua declarations of a rule file (1), engine.yaml (2), a discretion
 * table (3, with rules/sanctions.lua declaring the tables). A load either
 * succeeds or fails with a message; the sandbox bounds what a file runs.
 */
#include "fuzz.h"

#include <dlfcn.h>

#include "event/record.h"
#include "rules/ruleset.h"

#if FUZZ_PART != 2
static const char *const engine_yaml = "plugins: [deadline, discretion]\n"
                                       "lua: {memory_mb: 16, instructions: 200000}\n";
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The plugins carry coverage counters too: a ruleset's dlclose would
     * unmap them under the fuzzer, so they stay loaded for good. */
    for (const char *const *pl = (const char *const[]){ "deadline", "discretion", NULL }; *pl; pl++) {
        char path[512];
        snprintf(path, sizeof path, "%s/plugins/.libs/%s.so", CW_BUILDDIR, *pl);
        if (dlopen(path, RTLD_NOW | RTLD_NODELETE) == NULL) {
            fprintf(stderr, "fuzz: %s\n", dlerror());
            abort();
        }
    }
    fuzz_mkdir("calendar");
    fuzz_copy("rules/catalogue.yaml", "catalogue.yaml");
    fuzz_copy("rules/calendar/2026.yaml", "calendar/2026.yaml");
#if FUZZ_PART == 1
    free(fuzz_put("engine.yaml", engine_yaml, strlen(engine_yaml)));
#elif FUZZ_PART == 2
    fuzz_copy("rules/deadlines.lua", "deadlines.lua");
#elif FUZZ_PART == 3
    free(fuzz_put("engine.yaml", engine_yaml, strlen(engine_yaml)));
    fuzz_mkdir("discretion");
    fuzz_copy("rules/sanctions.lua", "sanctions.lua");
    fuzz_copy("rules/discretion/psal-2012.yaml", "discretion/psal-2012.yaml");
#else
#error "FUZZ_PART: 1 Lua declarations, 2 engine.yaml, 3 a discretion table"
#endif
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cw_load_opts lo = { CW_BUILDDIR "/plugins/.libs", NULL };
    cw_world *w = cw_world_new();
    cw_ruleset *rs = NULL;
    cw_err err = { 0 };

#if FUZZ_PART == 1
    free(fuzz_put("input.lua", data, size));
#elif FUZZ_PART == 2
    free(fuzz_put("engine.yaml", data, size));
#else
    free(fuzz_put("discretion/psal-2025.yaml", data, size));
#endif
    if (cw_ruleset_load(&rs, w, fuzz_tmp(), &lo, &err) == 0)
        cw_ruleset_free(rs);
    else if (err.msg[0] == '\0')
        abort();              /* a refusal says why */
    cw_world_free(w);
    return 0;
}
