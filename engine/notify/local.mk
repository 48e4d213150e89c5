# notify: notify.yaml (receivers, routes, escalation ladders, quiet hours),
# routing, body templates, signatures, and webhook delivery over libcurl.
# Knows no database: the store keeps the outbox, the service drives it.
noinst_LTLIBRARIES += engine/notify/libcwnotify.la
engine_notify_libcwnotify_la_SOURCES = \
	engine/notify/notify.h engine/notify/notify_int.h \
	engine/notify/config.c engine/notify/tmpl.c engine/notify/route.c engine/notify/http.c
engine_notify_libcwnotify_la_LIBADD = $(CURL_LIBS) $(JANSSON_LIBS)
engine_notify_libcwnotify_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
