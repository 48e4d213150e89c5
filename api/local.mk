# The HTTP API: a convenience library the binary links; engine/ never
# includes anything from here.
noinst_LTLIBRARIES += api/libcwapi.la
api_libcwapi_la_SOURCES = api/api.h api/api_int.h api/server.c api/events.c api/findings.c \
	api/misc.c api/sanctions.c
api_libcwapi_la_LIBADD = $(MHD_LIBS) $(JANSSON_LIBS)
api_libcwapi_la_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(JANSSON_CFLAGS)
