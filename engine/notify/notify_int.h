/* Shared inside engine/notify only. */
#ifndef CW_NOTIFY_INT_H
#define CW_NOTIFY_INT_H

#include "notify/notify.h"

typedef struct cw_tmpl cw_tmpl;

/* Parse a body template ({{name}}, {{#findings}}...{{/findings}}); on
 * error *line is the template's line that is wrong (0: none). */
int cw__tmpl_compile(cw_tmpl **out, const char *text, int *line, cw_err *err);
/* Render it with sample findings and parse the result as JSON. */
int cw__tmpl_check(const cw_notify *n, const cw_notify_receiver *r, cw_err *err);
void cw__tmpl_free(cw_tmpl *t);
/* "30s" and the like in milliseconds; -1 when it is not one. */
int cw__notify_duration_ms(const char *s, int64_t *out);

#endif
